//! Text normalisation and script helpers shared by the classifier and the extractors.
//!
//! Everything here works on `char`s, never panics, and keeps the character count stable where
//! the extractors need offsets ([`fold_char`] maps one char to one char).

/// The language of an utterance as the bot answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Simplified Chinese (any Han character in the message makes it Chinese).
    Zh,
    /// English (the default for Latin script, emoji or empty input).
    En,
}

impl Lang {
    /// The code used in JSON output: `zh` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

/// True for CJK unified ideographs (the basic block and extension A) and compatibility ideographs.
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF)
}

/// Guesses the language from the script: Chinese if the text holds a Han character.
pub fn detect_lang(text: &str) -> Lang {
    if text.chars().any(is_han) {
        Lang::Zh
    } else {
        Lang::En
    }
}

/// Folds one character: full-width ASCII to ASCII, ideographic space and control characters to a
/// space, ASCII and other letters to lower case when that stays a single char.
pub fn fold_char(c: char) -> char {
    let c = match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    };
    if c.is_control() {
        return ' ';
    }
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Normalises a message for matching: [`fold_char`] on every char, Chinese punctuation kept.
/// The output has exactly as many chars as the input, so char offsets carry over.
pub fn fold(text: &str) -> String {
    text.chars().map(fold_char).collect()
}

/// Normalises a message for the classifier: folded, whitespace runs collapsed, trimmed and cut
/// to `max_chars` characters (very long messages are classified on their beginning).
pub fn normalize_for_classifier(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut last_space = true;
    for c in text.chars().take(max_chars).map(fold_char) {
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else {
            out.push(c);
            last_space = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_keeps_char_count_and_maps_full_width() {
        let s = "ＡＢＣ１２３，西红柿\u{7}Tomato";
        let f = fold(s);
        assert_eq!(f.chars().count(), s.chars().count());
        assert_eq!(f, "abc123,西红柿 tomato");
    }

    #[test]
    fn normalize_collapses_whitespace() {
        assert_eq!(
            normalize_for_classifier("  Hi \t\n THERE  ", 100),
            "hi there"
        );
        assert_eq!(normalize_for_classifier("abcdef", 3), "abc");
    }

    #[test]
    fn lang_follows_script() {
        assert_eq!(detect_lang("where is my order"), Lang::En);
        assert_eq!(detect_lang("my 订单 where"), Lang::Zh);
        assert_eq!(detect_lang(""), Lang::En);
    }
}
