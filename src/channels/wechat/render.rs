//! Replies as WeChat text: WeChat has no quick-reply buttons, so buttons become numbered options
//! ("回复数字选择: 1 确认 2 修改") and a later reply that is just one of those numbers taps the
//! button. Pure.

use crate::domain::Reply;

/// Replies flattened into one text, and the payloads of its numbered options (1 first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub payloads: Vec<String>,
}

/// Options with labels up to this many in total fit on one line; more get a line each.
const ONE_LINE_CHARS: usize = 24;

pub fn render(replies: &[Reply]) -> Rendered {
    let mut parts = Vec::new();
    let mut payloads = Vec::new();
    for r in replies {
        let mut part = r.text.trim_end().to_owned();
        if !r.buttons.is_empty() {
            let zh =
                r.text.chars().any(is_cjk) || r.buttons.iter().any(|b| b.label.chars().any(is_cjk));
            let prompt = if zh {
                "回复数字选择:"
            } else {
                "Reply with a number:"
            };
            let options: Vec<String> = r
                .buttons
                .iter()
                .map(|b| {
                    payloads.push(b.payload.clone());
                    format!("{} {}", payloads.len(), b.label.trim())
                })
                .collect();
            let total: usize = r.buttons.iter().map(|b| b.label.chars().count()).sum();
            if !part.is_empty() {
                part.push('\n');
            }
            part.push_str(prompt);
            if total <= ONE_LINE_CHARS && r.buttons.len() <= 4 {
                part.push(' ');
                part.push_str(&options.join(" "));
            } else {
                for o in options {
                    part.push('\n');
                    part.push_str(&o);
                }
            }
        }
        if !part.is_empty() {
            parts.push(part);
        }
    }
    Rendered {
        text: parts.join("\n\n"),
        payloads,
    }
}

fn is_cjk(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c)
}

/// The payload a reply picks when it is just an option's number ("2", "２", " 2 ").
pub fn chosen<'a>(text: &str, payloads: &'a [String]) -> Option<&'a str> {
    let digits: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            c => c,
        })
        .collect();
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: usize = digits.parse().ok()?;
    payloads.get(n.checked_sub(1)?).map(String::as_str)
}

/// Splits a text into pieces of at most `max_bytes`, at line breaks where possible (WeChat
/// refuses longer text messages).
pub fn split(text: &str, max_bytes: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.split_inclusive('\n') {
        if cur.len() + line.len() > max_bytes && !cur.is_empty() {
            out.push(std::mem::take(&mut cur).trim_end().to_owned());
        }
        if line.len() > max_bytes {
            for c in line.chars() {
                if cur.len() + c.len_utf8() > max_bytes {
                    out.push(std::mem::take(&mut cur));
                }
                cur.push(c);
            }
        } else {
            cur.push_str(line);
        }
    }
    let last = cur.trim_end();
    if !last.is_empty() {
        out.push(last.to_owned());
    }
    out.retain(|p| !p.trim().is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Button;

    fn b(label: &str, payload: &str) -> Button {
        Button {
            label: label.into(),
            payload: payload.into(),
        }
    }

    #[test]
    fn buttons_become_numbered_options_across_replies() {
        let r = render(&[
            Reply::with_buttons("确认下单吗?", vec![b("确认", "yes"), b("修改", "no")]),
            Reply::with_buttons("Or talk to a person", vec![b("Human", "human")]),
        ]);
        assert_eq!(
            r.text,
            "确认下单吗?\n回复数字选择: 1 确认 2 修改\n\nOr talk to a person\nReply with a number: 3 Human"
        );
        assert_eq!(r.payloads, ["yes", "no", "human"]);
        assert_eq!(chosen("2", &r.payloads), Some("no"));
        assert_eq!(chosen(" ３ ", &r.payloads), Some("human"));
        assert_eq!(chosen("0", &r.payloads), None);
        assert_eq!(chosen("4", &r.payloads), None);
        assert_eq!(chosen("2斤", &r.payloads), None);
        assert_eq!(chosen("99999999999999999999", &r.payloads), None);
    }

    #[test]
    fn many_options_get_a_line_each() {
        let buttons: Vec<Button> = (0..6)
            .map(|i| b(&format!("11月25日 {i}:00-{i}:30"), "x"))
            .collect();
        let r = render(&[Reply::with_buttons("选时间", buttons)]);
        assert_eq!(r.text.lines().count(), 8, "{}", r.text);
    }

    #[test]
    fn long_texts_split_at_lines_within_the_limit() {
        let text = (0..300)
            .map(|i| format!("第{i}行 西红柿 两斤"))
            .collect::<Vec<_>>()
            .join("\n");
        let parts = split(&text, 2000);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| p.len() <= 2000));
        assert_eq!(parts.join("\n"), text);
        let one_line = "鲜".repeat(1000);
        let parts = split(&one_line, 2000);
        assert!(parts.iter().all(|p| p.len() <= 2000));
        assert_eq!(parts.concat(), one_line);
        assert!(split("", 10).is_empty());
    }
}
