//! One settings struct: defaults <- `freshbot.toml` <- `FRESHBOT_*` environment variables.
//! Nothing else in freshbot reads the environment.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::BusinessRules;

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file exists but could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The config file is not valid TOML for freshbot's settings.
    #[error("config file {path} is invalid: {message}")]
    Parse { path: PathBuf, message: String },
    /// An environment variable holds a value of the wrong kind.
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    Env {
        name: &'static str,
        value: String,
        reason: String,
    },
    /// A setting is out of range or inconsistent.
    #[error("invalid setting {key}: {reason}")]
    Invalid { key: &'static str, reason: String },
}

/// A secret string that never appears in `Debug` output or logs.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(<empty>)"
        } else {
            "Secret(***)"
        })
    }
}

/// All of freshbot's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where the embedded SQLite database and other runtime files live (`FRESHBOT_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `postgres://...` or `sqlite://...`; empty means the SQLite file under `data_dir` (`DATABASE_URL`).
    pub database_url: Option<String>,
    /// HTTP listen address (`FRESHBOT_BIND`).
    pub bind: String,
    /// Base URL customers reach this server at, for links in messages (`FRESHBOT_PUBLIC_URL`);
    /// default `http://{bind}`.
    pub public_url: Option<String>,
    /// Bearer token for operator endpoints (`FRESHBOT_ADMIN_TOKEN`); empty disables them.
    pub admin_token: Secret,
    /// Pricing, slots, cancel policy and membership rules of the business.
    pub business: BusinessRules,
    /// Whether this instance delivers outbox events to customers (`FRESHBOT_DISPATCH_OUTBOX`,
    /// default on). Several instances may all dispatch: they share the work.
    pub dispatch_outbox: bool,
    /// The Telegram bot; the channel runs only when its token is set.
    pub telegram: TelegramSettings,
    /// WeChat Official Account (`FRESHBOT_WECHAT_*`); off while its token is empty.
    pub wechat: WechatSettings,
    /// WeCom (企业微信) app (`FRESHBOT_WECOM_*`); off while its token is empty.
    pub wecom: WecomSettings,
    /// Human handoff: SLA and wait estimate.
    pub handoff: crate::handoff::HandoffSettings,
    /// Courier dispatch: automatic waves, travel model, delay alerts (`[dispatch]`).
    pub dispatch: crate::services::DispatchSettings,
}

/// The Telegram channel (`[telegram]` in freshbot.toml).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelegramSettings {
    /// The bot token from @BotFather (`TELOXIDE_TOKEN`); empty disables Telegram.
    pub token: Secret,
    /// Bot API base URL (`TELOXIDE_API_URL`); default Telegram's own. Tests point it at a fake.
    pub api_url: Option<String>,
    /// Public HTTPS URL Telegram posts updates to (`FRESHBOT_TELEGRAM_WEBHOOK_URL`), forwarded to
    /// `/telegram/webhook` of this server; unset means long polling.
    pub webhook_url: Option<String>,
    /// Telegram sends it back in `X-Telegram-Bot-Api-Secret-Token` on every webhook call
    /// (`FRESHBOT_TELEGRAM_WEBHOOK_SECRET`); required in webhook mode.
    pub webhook_secret: Secret,
}

impl TelegramSettings {
    pub fn enabled(&self) -> bool {
        !self.token.is_empty()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: String| Err(ConfigError::Invalid { key, reason });
        if !self.enabled() {
            if self.webhook_url.is_some() {
                return invalid(
                    "telegram.webhook_url",
                    "a webhook needs the bot token (TELOXIDE_TOKEN)".into(),
                );
            }
            return Ok(());
        }
        // `<bot id>:<key>`; the bot id keys deduplication, so it must be there.
        let token = self.token.expose();
        let well_formed = token.split_once(':').is_some_and(|(id, key)| {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
        if !well_formed {
            return invalid(
                "telegram.token",
                "not a bot token like 123456789:AAE...; copy it from @BotFather".into(),
            );
        }
        if let Some(url) = &self.api_url
            && !is_http_url(url)
        {
            return invalid("telegram.api_url", format!("{url:?} is not an http(s) URL"));
        }
        if let Some(url) = &self.webhook_url {
            if !is_http_url(url) {
                return invalid(
                    "telegram.webhook_url",
                    format!("{url:?} is not an http(s) URL"),
                );
            }
            let secret = self.webhook_secret.expose();
            if secret.is_empty()
                || secret.len() > 256
                || !secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return invalid(
                    "telegram.webhook_secret",
                    "webhook mode needs FRESHBOT_TELEGRAM_WEBHOOK_SECRET: 1-256 characters A-Z, a-z, 0-9, _ or -".into(),
                );
            }
        }
        Ok(())
    }
}

fn is_http_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://")) && s.len() > "https://".len()
}

/// A WeChat Official Account: the server settings of its "基本配置" page.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WechatSettings {
    /// Token (`FRESHBOT_WECHAT_TOKEN`): signs every callback.
    pub token: Secret,
    /// EncodingAESKey, 43 characters (`FRESHBOT_WECHAT_AES_KEY`); needed for safe mode.
    pub aes_key: Secret,
    /// AppID (`FRESHBOT_WECHAT_APPID`).
    pub appid: String,
    /// AppSecret (`FRESHBOT_WECHAT_SECRET`), for the access_token of outbound messages.
    pub secret: Secret,
    /// API base URL (`FRESHBOT_WECHAT_API_URL`).
    pub api_url: String,
    /// How long a turn may take before the answer goes out through the customer-service API
    /// instead of the passive reply (WeChat waits 5 s); 0 sends every answer through the API.
    pub reply_timeout_ms: u64,
    /// Callbacks whose timestamp is further off than this are refused as replays.
    pub max_clock_skew_secs: u64,
}

impl Default for WechatSettings {
    fn default() -> Self {
        Self {
            token: Secret::default(),
            aes_key: Secret::default(),
            appid: String::new(),
            secret: Secret::default(),
            api_url: "https://api.weixin.qq.com".to_owned(),
            reply_timeout_ms: 4500,
            max_clock_skew_secs: 300,
        }
    }
}

/// A WeCom self-built app ("自建应用"), whose callbacks are always encrypted.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WecomSettings {
    /// Token (`FRESHBOT_WECOM_TOKEN`).
    pub token: Secret,
    /// EncodingAESKey (`FRESHBOT_WECOM_AES_KEY`).
    pub aes_key: Secret,
    /// CorpID (`FRESHBOT_WECOM_CORPID`): the receive id of encrypted messages.
    pub corpid: String,
    /// AgentId of the app (`FRESHBOT_WECOM_AGENTID`).
    pub agentid: String,
    /// The app's Secret (`FRESHBOT_WECOM_SECRET`).
    pub secret: Secret,
    /// API base URL (`FRESHBOT_WECOM_API_URL`).
    pub api_url: String,
    pub reply_timeout_ms: u64,
    pub max_clock_skew_secs: u64,
}

impl Default for WecomSettings {
    fn default() -> Self {
        Self {
            token: Secret::default(),
            aes_key: Secret::default(),
            corpid: String::new(),
            agentid: String::new(),
            secret: Secret::default(),
            api_url: "https://qyapi.weixin.qq.com".to_owned(),
            reply_timeout_ms: 4500,
            max_clock_skew_secs: 300,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            database_url: None,
            bind: "127.0.0.1:8080".to_owned(),
            public_url: None,
            admin_token: Secret::default(),
            business: BusinessRules::default(),
            dispatch_outbox: true,
            telegram: TelegramSettings::default(),
            wechat: WechatSettings::default(),
            wecom: WecomSettings::default(),
            handoff: crate::handoff::HandoffSettings::default(),
            dispatch: crate::services::DispatchSettings::default(),
        }
    }
}

impl Settings {
    /// Loads defaults, then `freshbot.toml` (or the file named by `FRESHBOT_CONFIG`), then the
    /// process environment.
    pub fn load() -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(&env)
    }

    /// Like [`Settings::load`] with an explicit environment (tests pass their own).
    pub fn load_from(env: &[(String, String)]) -> Result<Self, ConfigError> {
        let get = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let path = get("FRESHBOT_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("freshbot.toml"));
        let mut settings = if path.exists() || get("FRESHBOT_CONFIG").is_some() {
            Self::from_file(&path)?
        } else {
            Self::default()
        };
        if let Some(v) = get("FRESHBOT_DATA_DIR") {
            settings.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("DATABASE_URL").filter(|v| !v.trim().is_empty()) {
            settings.database_url = Some(v);
        }
        if let Some(v) = get("FRESHBOT_BIND") {
            settings.bind = v;
        }
        if let Some(v) = get("FRESHBOT_PUBLIC_URL").filter(|v| !v.trim().is_empty()) {
            settings.public_url = Some(v);
        }
        if let Some(v) = get("FRESHBOT_ADMIN_TOKEN") {
            settings.admin_token = Secret::new(v);
        }
        if let Some(v) = get("FRESHBOT_DISPATCH_OUTBOX") {
            settings.dispatch_outbox = parse_flag("FRESHBOT_DISPATCH_OUTBOX", &v)?;
        }
        // teloxide's own variable names (DESIGN.md), read here like every other setting.
        if let Some(v) = get("TELOXIDE_TOKEN") {
            settings.telegram.token = Secret::new(v.trim());
        }
        if let Some(v) = get("TELOXIDE_API_URL").filter(|v| !v.trim().is_empty()) {
            settings.telegram.api_url = Some(v.trim().to_owned());
        }
        if let Some(v) = get("FRESHBOT_TELEGRAM_WEBHOOK_URL").filter(|v| !v.trim().is_empty()) {
            settings.telegram.webhook_url = Some(v.trim().to_owned());
        }
        if let Some(v) = get("FRESHBOT_TELEGRAM_WEBHOOK_SECRET") {
            settings.telegram.webhook_secret = Secret::new(v.trim());
        }
        let secret = |name: &str, into: &mut Secret| {
            if let Some(v) = get(name) {
                *into = Secret::new(v.trim());
            }
        };
        let plain = |name: &str, into: &mut String| {
            if let Some(v) = get(name).filter(|v| !v.trim().is_empty()) {
                *into = v.trim().to_owned();
            }
        };
        let wx = &mut settings.wechat;
        secret("FRESHBOT_WECHAT_TOKEN", &mut wx.token);
        secret("FRESHBOT_WECHAT_AES_KEY", &mut wx.aes_key);
        plain("FRESHBOT_WECHAT_APPID", &mut wx.appid);
        secret("FRESHBOT_WECHAT_SECRET", &mut wx.secret);
        plain("FRESHBOT_WECHAT_API_URL", &mut wx.api_url);
        let wc = &mut settings.wecom;
        secret("FRESHBOT_WECOM_TOKEN", &mut wc.token);
        secret("FRESHBOT_WECOM_AES_KEY", &mut wc.aes_key);
        plain("FRESHBOT_WECOM_CORPID", &mut wc.corpid);
        plain("FRESHBOT_WECOM_AGENTID", &mut wc.agentid);
        secret("FRESHBOT_WECOM_SECRET", &mut wc.secret);
        plain("FRESHBOT_WECOM_API_URL", &mut wc.api_url);
        for (name, slot) in [
            ("FRESHBOT_HANDOFF_SLA_SECS", &mut settings.handoff.sla_secs),
            (
                "FRESHBOT_HANDOFF_DEFAULT_WAIT_SECS",
                &mut settings.handoff.default_wait_secs,
            ),
        ] {
            if let Some(v) = get(name) {
                *slot =
                    v.trim()
                        .parse()
                        .map_err(|e: std::num::ParseIntError| ConfigError::Env {
                            name,
                            value: v.clone(),
                            reason: e.to_string(),
                        })?;
            }
        }
        if let Some(v) = get("FRESHBOT_DISPATCH_AUTO") {
            settings.dispatch.auto = parse_flag("FRESHBOT_DISPATCH_AUTO", &v)?;
        }
        if let Some(v) = get("FRESHBOT_DISPATCH_DELAY_MINUTES") {
            settings.dispatch.delay_threshold_minutes =
                v.trim()
                    .parse()
                    .map_err(|e: std::num::ParseIntError| ConfigError::Env {
                        name: "FRESHBOT_DISPATCH_DELAY_MINUTES",
                        value: v.clone(),
                        reason: e.to_string(),
                    })?;
        }
        if let Some(v) = get("FRESHBOT_DISPATCH_MAP_URL").filter(|v| !v.trim().is_empty()) {
            settings.dispatch.map_url = v.trim().to_owned();
        }
        settings.validate()?;
        Ok(settings)
    }

    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// Checks the settings hang together; called by `load`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Invalid {
                key: "bind",
                reason: format!("{:?} is not an address like 127.0.0.1:8080", self.bind),
            });
        }
        self.telegram.validate()?;
        self.dispatch
            .validate()
            .map_err(|reason| ConfigError::Invalid {
                key: "dispatch",
                reason,
            })?;
        self.business
            .validate()
            .map_err(|reason| ConfigError::Invalid {
                key: "business",
                reason,
            })?;
        self.validate_wechat()
    }

    /// A WeChat channel half configured fails at start, not at the first customer message.
    fn validate_wechat(&self) -> Result<(), ConfigError> {
        let aes_key_ok = |k: &Secret| {
            k.expose().len() == 43
                && k.expose()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        };
        let wx = &self.wechat;
        if !wx.token.is_empty() {
            if !wx.aes_key.is_empty() && !aes_key_ok(&wx.aes_key) {
                return Err(ConfigError::Invalid {
                    key: "wechat.aes_key",
                    reason: "the EncodingAESKey must be 43 letters, digits, '+' or '/'".into(),
                });
            }
            if !wx.aes_key.is_empty() && wx.appid.is_empty() {
                return Err(ConfigError::Invalid {
                    key: "wechat.appid",
                    reason: "safe mode (an EncodingAESKey) needs the AppID".into(),
                });
            }
        }
        let wc = &self.wecom;
        if !wc.token.is_empty() {
            if !aes_key_ok(&wc.aes_key) {
                return Err(ConfigError::Invalid {
                    key: "wecom.aes_key",
                    reason:
                        "WeCom callbacks are always encrypted: set a 43-character EncodingAESKey"
                            .into(),
                });
            }
            if wc.corpid.is_empty() {
                return Err(ConfigError::Invalid {
                    key: "wecom.corpid",
                    reason: "WeCom needs the CorpID".into(),
                });
            }
            if !wc.agentid.is_empty() && wc.agentid.parse::<i64>().is_err() {
                return Err(ConfigError::Invalid {
                    key: "wecom.agentid",
                    reason: format!("{:?} is not a number", wc.agentid),
                });
            }
        }
        Ok(())
    }

    /// The base URL of public pages.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
    }

    /// The database to open: `database_url` if set, else `sqlite://{data_dir}/freshbot.sqlite`.
    pub fn database_url(&self) -> Result<String, ConfigError> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir).map_err(|source| ConfigError::Read {
            path: self.data_dir.clone(),
            source,
        })?;
        let file = self.data_dir.join("freshbot.sqlite");
        Ok(format!("sqlite://{}?mode=rwc", file.display()))
    }
}

/// `true/false`, `1/0`, `on/off`, `yes/no`.
fn parse_flag(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => Ok(true),
        "0" | "false" | "off" | "no" => Ok(false),
        _ => Err(ConfigError::Env {
            name,
            value: value.to_owned(),
            reason: "expected true or false".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_overrides_defaults() {
        let s = Settings::load_from(&env(&[("FRESHBOT_CONFIG", "/nonexistent/freshbot.toml")]));
        assert!(
            matches!(s, Err(ConfigError::Read { .. })),
            "a named but missing file is an error"
        );

        let s = Settings::load_from(&env(&[
            ("FRESHBOT_BIND", "127.0.0.1:9999"),
            ("DATABASE_URL", "postgres://localhost/x"),
            ("FRESHBOT_ADMIN_TOKEN", "s3cret"),
        ]))
        .unwrap();
        assert_eq!(s.bind, "127.0.0.1:9999");
        assert_eq!(s.database_url().unwrap(), "postgres://localhost/x");
        assert_eq!(s.admin_token.expose(), "s3cret");
        assert!(
            !format!("{s:?}").contains("s3cret"),
            "secrets never reach Debug output"
        );
    }

    #[test]
    fn telegram_settings_come_from_teloxide_names_and_are_checked() {
        let s = Settings::load_from(&env(&[])).unwrap();
        assert!(!s.telegram.enabled(), "no token, no Telegram");

        let s = Settings::load_from(&env(&[
            ("TELOXIDE_TOKEN", "123456:AAE-secret_x"),
            ("TELOXIDE_API_URL", "http://127.0.0.1:9/"),
            (
                "FRESHBOT_TELEGRAM_WEBHOOK_URL",
                "https://bot.example.com/telegram/webhook",
            ),
            ("FRESHBOT_TELEGRAM_WEBHOOK_SECRET", "hook-secret_1"),
        ]))
        .unwrap();
        assert!(s.telegram.enabled());
        assert_eq!(s.telegram.api_url.as_deref(), Some("http://127.0.0.1:9/"));
        let debug = format!("{s:?}");
        assert!(!debug.contains("AAE-secret") && !debug.contains("hook-secret"));

        for (pairs, key) in [
            (vec![("TELOXIDE_TOKEN", "no-colon")], "telegram.token"),
            (vec![("TELOXIDE_TOKEN", "abc:def")], "telegram.token"),
            (
                vec![("TELOXIDE_TOKEN", "1:a"), ("TELOXIDE_API_URL", "localhost")],
                "telegram.api_url",
            ),
            (
                vec![
                    ("TELOXIDE_TOKEN", "1:a"),
                    ("FRESHBOT_TELEGRAM_WEBHOOK_URL", "https://x.example/h"),
                ],
                "telegram.webhook_secret",
            ),
            (
                vec![
                    ("TELOXIDE_TOKEN", "1:a"),
                    ("FRESHBOT_TELEGRAM_WEBHOOK_URL", "https://x.example/h"),
                    ("FRESHBOT_TELEGRAM_WEBHOOK_SECRET", "has space"),
                ],
                "telegram.webhook_secret",
            ),
            (
                vec![("FRESHBOT_TELEGRAM_WEBHOOK_URL", "https://x.example/h")],
                "telegram.webhook_url",
            ),
        ] {
            let err = Settings::load_from(&env(&pairs)).unwrap_err();
            assert!(err.to_string().contains(key), "{pairs:?}: {err}");
            assert!(
                !err.to_string().contains("has space"),
                "secrets stay out: {err}"
            );
        }
    }

    #[test]
    fn a_bad_bind_address_is_rejected_with_the_value() {
        let err = Settings::load_from(&env(&[("FRESHBOT_BIND", "localhost")])).unwrap_err();
        assert!(err.to_string().contains("localhost"));
    }

    #[test]
    fn the_config_file_is_read_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:7000\"\n[business.cancel]\ncooling_off_minutes = 30\n",
        )
        .unwrap();
        let s = Settings::load_from(&env(&[("FRESHBOT_CONFIG", path.to_str().unwrap())])).unwrap();
        assert_eq!(s.bind, "127.0.0.1:7000");
        assert_eq!(s.business.cancel.cooling_off_minutes, 30);

        std::fs::write(&path, "bnd = 1\n").unwrap();
        let err =
            Settings::load_from(&env(&[("FRESHBOT_CONFIG", path.to_str().unwrap())])).unwrap_err();
        assert!(err.to_string().contains("bnd"), "{err}");
    }

    #[test]
    fn risk_thresholds_are_configurable_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        let load = |text: &str| {
            std::fs::write(&path, text).unwrap();
            Settings::load_from(&env(&[("FRESHBOT_CONFIG", path.to_str().unwrap())]))
        };
        let s = load("[business.risk]\nvery_large_fen = 80000\nflag_at = 40\n").unwrap();
        assert_eq!(s.business.risk.very_large_fen, 80_000);
        assert_eq!(s.business.risk.flag_at, 40);
        assert_eq!(
            s.business.risk.open_orders, 3,
            "unset keys keep their defaults"
        );

        let err = load("[business.risk]\nedge_share = 2.0\n").unwrap_err();
        assert!(err.to_string().contains("edge_share"), "{err}");
        let err = load("[business.risk]\nflag_score = 10\n").unwrap_err();
        assert!(
            err.to_string().contains("flag_score"),
            "a typo is named: {err}"
        );
    }
}
