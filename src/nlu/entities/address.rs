//! The new address in a change-of-address message: the text after a cue such as 改到, 送到,
//! 地址改成, 新地址是, "deliver to", "change my address to", up to the end of the clause.

use std::sync::LazyLock;

use regex::Regex;

static ZH_CUE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:新地址|地址)(?:是|为|改成|改为|改到|换成|换到|变成|更改为|更新为)?[:：\s]*|(?:改成|改为|改到|换成|换到|变成|更改为|改送到?|送到|送去|送至|寄到|配送到)[:：\s]*").ok()
});
static EN_CUE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"\b(?:new address(?: is)?|address(?: is| to| should be)|deliver(?: it)? to|send(?: it)? to|ship(?: it)? to|bring(?: it)? to|change (?:it |the address |my address )?to|move (?:it |the delivery )?to|instead to)\s*:?\s*").ok()
});

/// Compiles this module's patterns now (they are compiled on first use otherwise): called at
/// start, so no customer's message pays for it.
pub(crate) fn compile_patterns() {
    LazyLock::force(&ZH_CUE);
    LazyLock::force(&EN_CUE);
}

/// Char offset of a byte offset.
fn chars_before(text: &str, byte: usize) -> usize {
    text[..byte].chars().count()
}

const TRAILING: &[&str] = &[
    ",",
    "吧",
    "哈",
    "谢谢",
    "可以吗",
    "行吗",
    "好吗",
    "please",
    "thanks",
    "thank you",
    "pls",
    "instead",
    "了",
    "去",
    "呢",
];

/// The address after the last cue, as `(value, start, end)` char offsets into `original`.
/// `folded` is the folded text used for matching; the value is cut from `original`.
pub fn find(original: &str, folded: &str) -> Option<(String, usize, usize)> {
    let mut best: Option<usize> = None;
    for r in [ZH_CUE.as_ref(), EN_CUE.as_ref()].into_iter().flatten() {
        for m in r.find_iter(folded) {
            best = Some(best.map_or(m.end(), |b: usize| b.max(m.end())));
        }
    }
    let start_b = best?;
    let rest = &folded[start_b..];
    // Chinese clauses end at a comma; English addresses keep theirs ("88 Century Ave, Pudong").
    let han = rest.chars().any(crate::nlu::text::is_han);
    let stop = rest
        .char_indices()
        .find(|&(_, c)| {
            matches!(c, '。' | '!' | '?' | ';' | '、' | '\n' | '~') || (han && c == ',')
        })
        .map_or(rest.len(), |(i, _)| i);
    let mut value_b = &rest[..stop];
    // Drop an English sentence end (". " or a final ".") but keep "No. 5".
    if let Some(i) = value_b.find(". ") {
        value_b = &value_b[..i];
    }
    let mut value = value_b.trim().trim_end_matches('.').trim().to_owned();
    loop {
        let before = value.len();
        for t in TRAILING {
            if let Some(v) = value.strip_suffix(t) {
                value = v.trim_end().to_owned();
            }
        }
        if value.len() == before {
            break;
        }
    }
    if value.chars().count() < 3 {
        return None;
    }
    let start = chars_before(folded, start_b) + (value_b.len() - value_b.trim_start().len());
    let n = value.chars().count();
    let orig: String = original.chars().skip(start).take(n).collect();
    Some((orig, start, start + n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(text: &str) -> Option<String> {
        let folded = crate::nlu::text::fold(text);
        find(text, &folded).map(|x| x.0)
    }

    #[test]
    fn extracts_new_address() {
        assert_eq!(
            a("地址改成上海市黄浦区南京东路100号").as_deref(),
            Some("上海市黄浦区南京东路100号")
        );
        assert_eq!(
            a("帮我改到静安区南京西路1266号吧，谢谢").as_deref(),
            Some("静安区南京西路1266号")
        );
        assert_eq!(
            a("Please deliver to 88 Century Avenue, Pudong").as_deref(),
            Some("88 Century Avenue, Pudong")
        );
        assert_eq!(
            a("change my address to Room 5, 100 Nanjing Road").as_deref(),
            Some("Room 5, 100 Nanjing Road")
        );
        assert_eq!(
            a("new address: 200 Huaihai Road please").as_deref(),
            Some("200 Huaihai Road")
        );
        assert_eq!(a("where is my order"), None);
    }
}
