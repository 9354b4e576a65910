//! Outbound: WeChat's customer-service message API (Official Account) and WeCom's app message
//! API, with the access_token fetched once and cached until it expires or WeChat says it is
//! stale.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use super::render;
use crate::channels::{SendError, Sender};
use crate::domain::Channel;
use crate::domain::Reply;
use crate::services::Services;

/// WeChat refuses text messages over 2048 bytes; keep a margin.
pub const MAX_TEXT_BYTES: usize = 2000;
/// An Official Account may answer a customer only this long after their last message.
pub const REPLY_WINDOW_HOURS: i64 = 48;
/// Refresh the token this long before WeChat's stated expiry.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

/// Whose credentials fetch the token, and how messages are addressed.
#[derive(Clone)]
pub enum Credentials {
    OfficialAccount {
        appid: String,
        secret: String,
    },
    Wecom {
        corpid: String,
        secret: String,
        agentid: i64,
    },
}

struct CachedToken {
    value: String,
    expires: Instant,
}

/// A client of one account's API.
pub struct WxApi {
    http: reqwest::Client,
    base: String,
    creds: Credentials,
    /// Held across a fetch so that concurrent senders fetch the token once.
    token: tokio::sync::Mutex<Option<CachedToken>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct SendAnswer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    /// WeCom: recipients it could not reach, `|`-separated.
    #[serde(default)]
    invaliduser: String,
}

/// errcodes meaning "the access_token is invalid or expired".
fn token_is_stale(errcode: i64) -> bool {
    matches!(errcode, 40001 | 40014 | 42001)
}

impl WxApi {
    pub fn new(base: &str, creds: Credentials) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            base: base.trim_end_matches('/').to_owned(),
            creds,
            token: tokio::sync::Mutex::new(None),
        })
    }

    fn retry(e: impl std::fmt::Display) -> SendError {
        SendError::Retry(e.to_string())
    }

    /// The cached token, fetching a new one when there is none or it expired.
    async fn access_token(&self) -> Result<String, SendError> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref()
            && t.expires > Instant::now()
        {
            return Ok(t.value.clone());
        }
        let req = match &self.creds {
            Credentials::OfficialAccount { appid, secret } => self
                .http
                .get(format!("{}/cgi-bin/token", self.base))
                .query(&[
                    ("grant_type", "client_credential"),
                    ("appid", appid),
                    ("secret", secret),
                ]),
            Credentials::Wecom { corpid, secret, .. } => self
                .http
                .get(format!("{}/cgi-bin/gettoken", self.base))
                .query(&[("corpid", corpid), ("corpsecret", secret)]),
        };
        let resp = req.send().await.map_err(|e| Self::retry(e.without_url()))?;
        if !resp.status().is_success() {
            return Err(Self::retry(format!("access_token: HTTP {}", resp.status())));
        }
        let a: TokenAnswer = resp
            .json()
            .await
            .map_err(|e| Self::retry(e.without_url()))?;
        let Some(value) = a.access_token.filter(|t| !t.is_empty() && a.errcode == 0) else {
            // Wrong AppID/secret or an IP not on the whitelist: an operator must fix it, and
            // the message should still go out once they have.
            return Err(Self::retry(format!(
                "access_token refused: errcode {} {}",
                a.errcode, a.errmsg
            )));
        };
        let ttl = Duration::from_secs(a.expires_in.unwrap_or(7200)).saturating_sub(TOKEN_MARGIN);
        *cached = Some(CachedToken {
            value: value.clone(),
            expires: Instant::now() + ttl.max(Duration::from_secs(60)),
        });
        Ok(value)
    }

    /// Forgets `stale` (unless another task already replaced it).
    async fn invalidate(&self, stale: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == stale) {
            *cached = None;
        }
    }

    /// Sends one text message; refetches the token once when WeChat calls it stale.
    pub async fn send_text(&self, user: &str, content: &str) -> Result<(), SendError> {
        for attempt in 0..2 {
            let token = self.access_token().await?;
            let (path, body) = match &self.creds {
                Credentials::OfficialAccount { .. } => (
                    "/cgi-bin/message/custom/send",
                    json!({"touser": user, "msgtype": "text", "text": {"content": content}}),
                ),
                Credentials::Wecom { agentid, .. } => (
                    "/cgi-bin/message/send",
                    json!({"touser": user, "msgtype": "text", "agentid": agentid,
                           "text": {"content": content}}),
                ),
            };
            let resp = self
                .http
                .post(format!("{}{path}", self.base))
                .query(&[("access_token", &token)])
                .json(&body)
                .send()
                .await
                .map_err(|e| Self::retry(e.without_url()))?;
            let status = resp.status();
            if !status.is_success() {
                return Err(Self::retry(format!("HTTP {status}")));
            }
            let a: SendAnswer = resp
                .json()
                .await
                .map_err(|e| Self::retry(e.without_url()))?;
            match a.errcode {
                0 if a.invaliduser.is_empty() => return Ok(()),
                0 => {
                    return Err(SendError::Undeliverable(format!(
                        "WeCom does not know the user {}",
                        a.invaliduser
                    )));
                }
                c if token_is_stale(c) && attempt == 0 => self.invalidate(&token).await,
                c if token_is_stale(c) => {
                    return Err(Self::retry(format!("access_token rejected: {c}")));
                }
                45015 => {
                    return Err(SendError::Undeliverable(
                        "outside WeChat's 48-hour window".into(),
                    ));
                }
                // System busy, API frequency limits: temporary.
                c @ (-1 | 45009 | 45011 | 45047) => {
                    return Err(Self::retry(format!("errcode {c} {}", a.errmsg)));
                }
                // Unfollowed, unknown OpenID, blocked...: retrying cannot help.
                c => {
                    return Err(SendError::Undeliverable(format!(
                        "errcode {c} {}",
                        a.errmsg
                    )));
                }
            }
        }
        Err(Self::retry("access_token kept being rejected"))
    }
}

/// The [`Sender`] of an Official Account or a WeCom app.
pub struct WxSender {
    channel: Channel,
    api: Arc<WxApi>,
    services: Services,
}

impl WxSender {
    pub fn new(channel: Channel, api: Arc<WxApi>, services: Services) -> Self {
        Self {
            channel,
            api,
            services,
        }
    }
}

#[async_trait::async_trait]
impl Sender for WxSender {
    fn channel(&self) -> Channel {
        self.channel
    }

    /// WeChat has no buttons: the replies are rendered into one text whose numbered choices
    /// run across them, and a number typed back means the choice of that whole text. Split,
    /// the numbers would restart and point at the wrong buttons.
    fn message_groups(&self, replies: &[Reply]) -> Vec<std::ops::Range<usize>> {
        if replies.is_empty() {
            vec![]
        } else {
            std::iter::once(0..replies.len()).collect()
        }
    }

    async fn send(&self, user: &str, replies: &[Reply]) -> Result<(), SendError> {
        let rendered = render::render(replies);
        let parts = render::split(&rendered.text, MAX_TEXT_BYTES);
        if parts.is_empty() {
            return Ok(());
        }
        let store_err = |e: crate::services::ServiceError| SendError::Retry(e.to_string());
        // WeCom apps may message their members at any time; Official Accounts only within the
        // window, and calling the API outside it would only earn an error.
        if self.channel == Channel::Wechat
            && !self
                .services
                .wrote_within(self.channel, user, REPLY_WINDOW_HOURS)
                .await
                .map_err(store_err)?
        {
            return Err(SendError::Undeliverable(
                "outside WeChat's 48-hour window".into(),
            ));
        }
        for p in &parts {
            self.api.send_text(user, p).await?;
        }
        self.services
            .remember_buttons(self.channel, user, &rendered.payloads)
            .await
            .map_err(store_err)?;
        Ok(())
    }
}
