//! WeChat Official Account and WeCom (企业微信) app: one adapter family.
//!
//! - [`crypto`]: signatures and safe-mode AES (pure);
//! - [`xml`]: callback parsing without entities, reply building with safe CDATA (pure);
//! - [`render`]: buttons as numbered options and numbers back to buttons (pure);
//! - [`webhook`]: `/wechat` and `/wecom`, passive replies within WeChat's 5 seconds;
//! - [`api`]: the outbound [`Sender`](crate::channels::Sender)s with a cached access_token.

pub mod api;
pub mod crypto;
pub mod render;
pub mod webhook;
pub mod xml;

use std::sync::Arc;
use std::time::Duration;

use crate::channels::{Sender, Senders};
use crate::config::Settings;
use crate::conversation::Engine;
use crate::domain::Channel;
use crate::services::Services;

pub use api::{Credentials, WxApi, WxSender};
pub use crypto::{CryptoError, WxCrypto};

/// Why a configured WeChat channel cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}: {1}")]
    Crypto(&'static str, CryptoError),
    #[error("building the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The senders of the configured accounts that have API credentials.
pub fn senders(
    settings: &Settings,
    services: &Services,
) -> Result<Vec<Arc<dyn Sender>>, SetupError> {
    let mut out: Vec<Arc<dyn Sender>> = Vec::new();
    let wx = &settings.wechat;
    if !wx.token.is_empty() && !wx.appid.is_empty() && !wx.secret.is_empty() {
        let api = WxApi::new(
            &wx.api_url,
            Credentials::OfficialAccount {
                appid: wx.appid.clone(),
                secret: wx.secret.expose().to_owned(),
            },
        )?;
        out.push(Arc::new(WxSender::new(
            Channel::Wechat,
            Arc::new(api),
            services.clone(),
        )));
    } else if !wx.token.is_empty() {
        tracing::warn!(
            "WeChat: no AppID/AppSecret, so slow turns and pushes cannot be sent (set FRESHBOT_WECHAT_APPID and FRESHBOT_WECHAT_SECRET)"
        );
    }
    let wc = &settings.wecom;
    if !wc.token.is_empty() && !wc.secret.is_empty() {
        let agentid = wc.agentid.parse::<i64>().unwrap_or_default();
        let api = WxApi::new(
            &wc.api_url,
            Credentials::Wecom {
                corpid: wc.corpid.clone(),
                secret: wc.secret.expose().to_owned(),
                agentid,
            },
        )?;
        out.push(Arc::new(WxSender::new(
            Channel::Wecom,
            Arc::new(api),
            services.clone(),
        )));
    } else if !wc.token.is_empty() {
        tracing::warn!("WeCom: no app Secret, so slow turns and pushes cannot be sent");
    }
    Ok(out)
}

/// The callback routes of the configured accounts (`None` when neither is configured).
pub fn routes(
    settings: &Settings,
    engine: &Engine,
    senders: &Senders,
) -> Result<Option<axum::Router>, SetupError> {
    let mut router: Option<axum::Router> = None;
    let wx = &settings.wechat;
    if !wx.token.is_empty() {
        let crypto = if wx.aes_key.is_empty() {
            None
        } else {
            Some(
                WxCrypto::new(wx.token.expose(), wx.aes_key.expose(), &wx.appid)
                    .map_err(|e| SetupError::Crypto("wechat.aes_key", e))?,
            )
        };
        let account = webhook::Account {
            channel: Channel::Wechat,
            token: wx.token.expose().to_owned(),
            crypto,
            always_encrypted: false,
            reply_timeout: Duration::from_millis(wx.reply_timeout_ms),
            max_skew_secs: i64::try_from(wx.max_clock_skew_secs).unwrap_or(i64::MAX),
        };
        let r = webhook::routes("/wechat", account, engine.clone(), senders.clone());
        router = Some(r);
        tracing::info!("WeChat Official Account webhook at /wechat");
    }
    let wc = &settings.wecom;
    if !wc.token.is_empty() {
        let crypto = WxCrypto::new(wc.token.expose(), wc.aes_key.expose(), &wc.corpid)
            .map_err(|e| SetupError::Crypto("wecom.aes_key", e))?;
        let account = webhook::Account {
            channel: Channel::Wecom,
            token: wc.token.expose().to_owned(),
            crypto: Some(crypto),
            always_encrypted: true,
            reply_timeout: Duration::from_millis(wc.reply_timeout_ms),
            max_skew_secs: i64::try_from(wc.max_clock_skew_secs).unwrap_or(i64::MAX),
        };
        let r = webhook::routes("/wecom", account, engine.clone(), senders.clone());
        router = Some(match router {
            Some(acc) => acc.merge(r),
            None => r,
        });
        tracing::info!("WeCom app webhook at /wecom");
    }
    Ok(router)
}
