//! A stated substitution preference ("缺了就别换", "substitutes are fine", "no swaps pls"):
//! `Some(false)` refuses substitutes, `Some(true)` allows them, `None` says nothing about them.
//! Refusals are read first: "不换" contains "换", "don't substitute" contains "substitute".

/// Phrases that refuse substitutes (folded: lowercase, simplified).
const REFUSE: &[&str] = &[
    "不要换",
    "别换",
    "不用换",
    "不换",
    "不替换",
    "不要替换",
    "别替换",
    "不用替换",
    "无需替换",
    "缺了就不要",
    "缺货就不要",
    "没有就不要",
    "没有就算了",
    "缺了就算了",
    "缺货就算了",
    "没货就算了",
    "没货就不要",
    "冇货就唔使",
    "唔使换",
    "唔好换",
    "不接受替换",
    "不要代替",
    "no sub",
    "no swap",
    "no replac",
    "don't sub",
    "dont sub",
    "do not sub",
    "don't swap",
    "dont swap",
    "do not swap",
    "don't replace",
    "dont replace",
    "do not replace",
    "without sub",
    "not substitut",
    "no alternative",
    "skip it if",
    "leave it out",
    "just leave it",
];

/// Phrases that allow substitutes.
const ALLOW: &[&str] = &[
    "可以换",
    "能换",
    "换也行",
    "换也可以",
    "换吧",
    "替换也行",
    "自动替换",
    "可以替换",
    "随便换",
    "换类似",
    "换相似",
    "换差不多",
    "换个差不多",
    "类似的也行",
    "相似的也行",
    "差不多的也行",
    "可以換",
    "換類似",
    "可以换滴",
    "ok to sub",
    "okay to sub",
    "substitutes ok",
    "substitutes are ok",
    "substitutes are fine",
    "substitutions ok",
    "substitutions are fine",
    "substitute is fine",
    "substitutes fine",
    "subs ok",
    "subs fine",
    "swaps ok",
    "swap is fine",
    "swaps are fine",
    "fine to swap",
    "ok to swap",
    "similar is fine",
    "similar is ok",
    "similar ok",
    "similar items ok",
    "similar items are fine",
    "similar substitutes",
    "replace if",
    "can substitute",
    "can swap",
    "substitute if",
    "swap if",
    "go ahead and substitute",
    "happy with substitutes",
];

/// The preference stated in `folded` text, if any.
pub fn stance(folded: &str) -> Option<bool> {
    let t = folded.to_lowercase().replace('’', "'");
    if REFUSE.iter().any(|p| t.contains(p)) {
        Some(false)
    } else if ALLOW.iter().any(|p| t.contains(p)) {
        Some(true)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::stance;

    #[test]
    fn refusals_win_over_the_words_they_contain() {
        for t in [
            "缺了就别换了",
            "不替换",
            "no substitutes please",
            "please don't substitute",
            "dont swap anything",
            "没有就算了",
        ] {
            assert_eq!(stance(t), Some(false), "{t}");
        }
        for t in [
            "可以换类似的",
            "substitutes are fine",
            "similar is fine",
            "ok to swap",
        ] {
            assert_eq!(stance(t), Some(true), "{t}");
        }
        for t in ["两斤西红柿", "swap the tomatoes for cucumbers", "换成黄瓜"] {
            assert_eq!(stance(t), None, "{t}");
        }
    }
}
