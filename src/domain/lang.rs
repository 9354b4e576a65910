//! The customer's language: zh-CN and en everywhere a customer reads text.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// From a language tag such as Telegram's `language_code` ("zh-hans", "en-US").
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let t = tag.trim().to_ascii_lowercase();
        if t.starts_with("zh") {
            Some(Lang::Zh)
        } else if t.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// Guesses from the script of a message: any CJK ideograph means Chinese.
    pub fn detect(text: &str) -> Option<Lang> {
        if text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
            Some(Lang::Zh)
        } else if text.chars().any(|c| c.is_ascii_alphabetic()) {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// Picks the text for this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lang::from_tag(s).ok_or_else(|| format!("unknown language {s:?}: use zh or en"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_from_tags_and_scripts() {
        assert_eq!(Lang::from_tag("zh-hans"), Some(Lang::Zh));
        assert_eq!(Lang::from_tag("en-US"), Some(Lang::En));
        assert_eq!(Lang::from_tag("ru"), None);
        assert_eq!(Lang::detect("我要两斤西红柿"), Some(Lang::Zh));
        assert_eq!(Lang::detect("where is my order"), Some(Lang::En));
        assert_eq!(Lang::detect("帮我cancel"), Some(Lang::Zh));
        assert_eq!(Lang::detect("👍 123"), None);
    }
}
