//! The XML of WeChat callbacks and passive replies. Pure.
//!
//! Incoming bodies are flat: `<xml>` with one level of fields, values as text or CDATA. The
//! parser refuses any DOCTYPE (so no entity can be declared, expanded or fetched: no XXE, no
//! "billion laughs"), resolves only the five predefined entities and character references, and
//! keeps only the root's direct children. Replies wrap every text in CDATA with `]]>` split so a
//! customer's text can never close the section and inject fields.

use std::collections::HashMap;

use quick_xml::events::Event;

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("DOCTYPE and entity declarations are not accepted")]
    Doctype,
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("missing field {0}")]
    Missing(&'static str),
    #[error("field {0} has an invalid value")]
    Invalid(&'static str),
}

/// Deepest nesting accepted (WeChat's deepest events nest three levels).
const MAX_DEPTH: usize = 8;
/// Most fields kept from one body.
const MAX_FIELDS: usize = 64;

/// The root element's direct children as `name -> text`.
pub fn parse_fields(body: &str) -> Result<HashMap<String, String>, XmlError> {
    let mut reader = quick_xml::Reader::from_str(body);
    reader.config_mut().trim_text(false);
    let mut fields = HashMap::new();
    let mut depth = 0usize;
    let mut saw_root = false;
    let mut current: Option<(String, String)> = None;
    let malformed = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
    loop {
        match reader.read_event().map_err(|e| malformed(&e))? {
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Start(e) => {
                if depth == 0 && saw_root {
                    return Err(XmlError::Malformed("more than one root element".into()));
                }
                depth += 1;
                saw_root = true;
                if depth > MAX_DEPTH {
                    return Err(XmlError::Malformed("nested too deeply".into()));
                }
                if depth == 2 {
                    let name = std::str::from_utf8(e.name().as_ref())
                        .map_err(|e| malformed(&e))?
                        .to_owned();
                    current = Some((name, String::new()));
                }
            }
            Event::Empty(e) => {
                if depth == 0 {
                    if saw_root {
                        return Err(XmlError::Malformed("more than one root element".into()));
                    }
                    saw_root = true;
                } else if depth == 1 {
                    let name = std::str::from_utf8(e.name().as_ref())
                        .map_err(|e| malformed(&e))?
                        .to_owned();
                    insert(&mut fields, name, String::new())?;
                }
            }
            Event::End(_) => {
                if depth == 2
                    && let Some((name, value)) = current.take()
                {
                    insert(&mut fields, name, value)?;
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => {
                let text = t.xml10_content().map_err(|e| malformed(&e))?;
                if depth == 0 && !text.trim().is_empty() {
                    return Err(XmlError::Malformed("text outside the root element".into()));
                }
                if depth == 2
                    && let Some((_, v)) = current.as_mut()
                {
                    v.push_str(&text);
                }
            }
            Event::CData(c) => {
                let text = c.decode().map_err(|e| malformed(&e))?;
                if depth == 2
                    && let Some((_, v)) = current.as_mut()
                {
                    v.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                let ch = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| malformed(&e))?
                        .ok_or_else(|| XmlError::Malformed("bad character reference".into()))?
                } else {
                    let name = r.decode().map_err(|e| malformed(&e))?;
                    match name.as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => {
                            return Err(XmlError::Malformed(format!(
                                "undeclared entity &{other};"
                            )));
                        }
                    }
                };
                if depth == 2
                    && let Some((_, v)) = current.as_mut()
                {
                    v.push(ch);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
        }
    }
    if !saw_root || depth != 0 {
        return Err(XmlError::Malformed("no complete root element".into()));
    }
    Ok(fields)
}

fn insert(
    fields: &mut HashMap<String, String>,
    name: String,
    value: String,
) -> Result<(), XmlError> {
    if fields.len() >= MAX_FIELDS {
        return Err(XmlError::Malformed("too many fields".into()));
    }
    fields.entry(name).or_insert(value);
    Ok(())
}

/// A callback message, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The account (`gh_...` id, or the CorpID for WeCom).
    pub to: String,
    /// The customer: OpenID (Official Account) or UserID (WeCom).
    pub from: String,
    pub create_time: i64,
    pub msg_id: Option<String>,
    /// WeCom only.
    pub agent_id: Option<String>,
    pub kind: MessageKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MessageKind {
    Text {
        content: String,
    },
    Location {
        lat: f64,
        lon: f64,
        label: String,
    },
    Event(EventKind),
    /// Images, voice, video, links...: `MsgType` as sent.
    Unsupported(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// Followed the account (`EventKey` is set when through a QR code).
    Subscribe,
    Unsubscribe,
    /// A menu item with a key.
    Click(String),
    /// Periodic location reports and anything else freshbot does not act on.
    Other(String),
}

impl Incoming {
    pub fn parse(body: &str) -> Result<Self, XmlError> {
        Self::from_fields(&parse_fields(body)?)
    }

    pub fn from_fields(f: &HashMap<String, String>) -> Result<Self, XmlError> {
        let get = |k: &'static str| f.get(k).map(|v| v.trim().to_owned());
        let need = |k: &'static str| get(k).filter(|v| !v.is_empty()).ok_or(XmlError::Missing(k));
        let msg_type = need("MsgType")?;
        let kind = match msg_type.as_str() {
            "text" => MessageKind::Text {
                // Not trimmed: the customer's text as typed.
                content: f
                    .get("Content")
                    .cloned()
                    .ok_or(XmlError::Missing("Content"))?,
            },
            "location" => {
                let num = |k: &'static str| -> Result<f64, XmlError> {
                    need(k)?
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or(XmlError::Invalid(k))
                };
                MessageKind::Location {
                    lat: num("Location_X")?,
                    lon: num("Location_Y")?,
                    label: get("Label").unwrap_or_default(),
                }
            }
            "event" => {
                let event = need("Event")?;
                match event.to_ascii_lowercase().as_str() {
                    "subscribe" => MessageKind::Event(EventKind::Subscribe),
                    "unsubscribe" => MessageKind::Event(EventKind::Unsubscribe),
                    "click" => MessageKind::Event(EventKind::Click(need("EventKey")?)),
                    _ => MessageKind::Event(EventKind::Other(event)),
                }
            }
            other => MessageKind::Unsupported(other.to_owned()),
        };
        Ok(Incoming {
            to: get("ToUserName").unwrap_or_default(),
            from: need("FromUserName")?,
            create_time: need("CreateTime")?
                .parse()
                .map_err(|_| XmlError::Invalid("CreateTime"))?,
            msg_id: get("MsgId").filter(|v| !v.is_empty()),
            agent_id: get("AgentID").filter(|v| !v.is_empty()),
            kind,
        })
    }
}

/// `<![CDATA[...]]>` that survives any content: `]]>` is split across two sections, and
/// characters XML 1.0 forbids are dropped.
pub fn cdata(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
        })
        .collect();
    format!("<![CDATA[{}]]>", clean.replace("]]>", "]]]]><![CDATA[>"))
}

/// A passive text reply.
pub fn text_reply(to_user: &str, from_account: &str, create_time: i64, content: &str) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>{}</Content></xml>",
        cdata(to_user),
        cdata(from_account),
        cdata(content)
    )
}

/// The safe-mode reply envelope.
pub fn encrypted_reply(encrypt: &str, signature: &str, timestamp: &str, nonce: &str) -> String {
    format!(
        "<xml><Encrypt>{}</Encrypt><MsgSignature>{}</MsgSignature><TimeStamp>{}</TimeStamp><Nonce>{}</Nonce></xml>",
        cdata(encrypt),
        cdata(signature),
        cdata(timestamp),
        cdata(nonce)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_message_parses() {
        let m = Incoming::parse(
            "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oU1]]></FromUserName>\
             <CreateTime>1714037059</CreateTime><MsgType><![CDATA[text]]></MsgType>\
             <Content><![CDATA[我要两斤西红柿 & <鸡蛋>]]></Content><MsgId>1234567890123456</MsgId></xml>",
        )
        .unwrap();
        assert_eq!(m.from, "oU1");
        assert_eq!(m.to, "gh_1");
        assert_eq!(m.create_time, 1714037059);
        assert_eq!(m.msg_id.as_deref(), Some("1234567890123456"));
        assert_eq!(
            m.kind,
            MessageKind::Text {
                content: "我要两斤西红柿 & <鸡蛋>".into()
            }
        );
    }

    #[test]
    fn escaped_text_and_character_references_are_decoded() {
        let m = Incoming::parse(
            "<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>\
             <Content>a &amp; b &lt; c &#x9C9C;&#33;</Content></xml>",
        )
        .unwrap();
        assert_eq!(
            m.kind,
            MessageKind::Text {
                content: "a & b < c 鲜!".into()
            }
        );
    }

    #[test]
    fn location_and_events_parse() {
        let loc = Incoming::parse(
            "<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>location</MsgType>\
             <Location_X>31.2352</Location_X><Location_Y>121.48</Location_Y><Scale>15</Scale>\
             <Label><![CDATA[南京东路]]></Label><MsgId>9</MsgId></xml>",
        )
        .unwrap();
        assert_eq!(
            loc.kind,
            MessageKind::Location {
                lat: 31.2352,
                lon: 121.48,
                label: "南京东路".into()
            }
        );
        let click = Incoming::parse(
            "<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>\
             <Event>CLICK</Event><EventKey>TRACK_ORDER</EventKey><AgentID>1000002</AgentID></xml>",
        )
        .unwrap();
        assert_eq!(
            click.kind,
            MessageKind::Event(EventKind::Click("TRACK_ORDER".into()))
        );
        assert_eq!(click.agent_id.as_deref(), Some("1000002"));
        assert_eq!(click.msg_id, None);
        let sub = Incoming::parse(
            "<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>\
             <Event>subscribe</Event><EventKey></EventKey></xml>",
        )
        .unwrap();
        assert_eq!(sub.kind, MessageKind::Event(EventKind::Subscribe));
        let img = Incoming::parse(
            "<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>image</MsgType>\
             <PicUrl>http://x</PicUrl><ScanCodeInfo><ScanType>q</ScanType></ScanCodeInfo></xml>",
        )
        .unwrap();
        assert_eq!(img.kind, MessageKind::Unsupported("image".into()));
    }

    #[test]
    fn doctype_and_entities_are_refused() {
        let xxe = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\
                   <xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime>\
                   <MsgType>text</MsgType><Content>&x;</Content></xml>";
        assert_eq!(parse_fields(xxe), Err(XmlError::Doctype));
        // An entity used without a declaration is an error, never a lookup.
        let undeclared = "<xml><Content>&x;</Content></xml>";
        assert!(matches!(
            parse_fields(undeclared),
            Err(XmlError::Malformed(_))
        ));
    }

    #[test]
    fn malformed_bodies_are_errors() {
        for bad in [
            "",
            "not xml",
            "<xml><Content>a</xml>",
            "<xml><a>1</a></xml><xml/>",
            "<xml><MsgType>text</MsgType></xml>",
            "<xml><FromUserName>u</FromUserName><CreateTime>x</CreateTime><MsgType>text</MsgType><Content>a</Content></xml>",
            "<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>location</MsgType><Location_X>NaN</Location_X><Location_Y>1</Location_Y></xml>",
        ] {
            assert!(Incoming::parse(bad).is_err(), "{bad}");
        }
        let deep = format!("<xml>{}{}</xml>", "<a>".repeat(20), "</a>".repeat(20));
        assert!(parse_fields(&deep).is_err());
    }

    #[test]
    fn replies_cannot_be_broken_out_of() {
        let evil = "hi]]><MsgType>news</MsgType><![CDATA[";
        let xml = text_reply("oU1", "gh_1", 5, evil);
        let f = parse_fields(&xml).unwrap();
        assert_eq!(f["Content"], evil);
        assert_eq!(f["MsgType"], "text");
        assert_eq!(f["ToUserName"], "oU1");
        // Control characters XML forbids are dropped rather than producing invalid XML.
        let f = parse_fields(&text_reply("u", "g", 1, "a\u{1}b\nc")).unwrap();
        assert_eq!(f["Content"], "ab\nc");
    }
}
