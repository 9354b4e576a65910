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
    /// Human handoff: SLA and wait estimate.
    pub handoff: crate::handoff::HandoffSettings,
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
            handoff: crate::handoff::HandoffSettings::default(),
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
        self.business
            .validate()
            .map_err(|reason| ConfigError::Invalid {
                key: "business",
                reason,
            })
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
}
