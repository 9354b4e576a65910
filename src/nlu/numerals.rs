//! Numbers written in Arabic digits, Chinese numerals and English words.
//!
//! Parsers take a char slice and a start index and return the value and the number of chars
//! consumed; they never read past the slice.

/// Value of one Chinese digit character (两/俩 count as 2, 仨 as 3).
pub fn zh_digit(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' => 0,
        '一' | '壹' => 1,
        '二' | '贰' | '两' | '俩' => 2,
        '三' | '叁' | '仨' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

/// Parses Arabic digits with an optional decimal part (`3`, `3.5`, `12`).
pub fn parse_arabic(chars: &[char], start: usize) -> Option<(f64, usize)> {
    let mut i = start;
    while i < chars.len() && chars[i].is_ascii_digit() {
        i += 1;
    }
    if i == start || i - start > 9 {
        return None;
    }
    let mut end = i;
    if i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit() {
        let mut j = i + 1;
        while j < chars.len() && chars[j].is_ascii_digit() && j - i <= 3 {
            j += 1;
        }
        end = j;
    }
    let s: String = chars[start..end].iter().collect();
    s.parse::<f64>().ok().map(|v| (v, end - start))
}

/// Parses a Chinese numeral up to the thousands (`三`, `十五`, `二十`, `一百二十`, `两百`).
/// 两 is a numeral only at the start ("二两" is 2 + the liang unit, left to the caller).
pub fn parse_zh(chars: &[char], start: usize) -> Option<(f64, usize)> {
    let mut i = start;
    let mut total: u32 = 0;
    let mut current: Option<u32> = None;
    let mut consumed_any = false;
    while i < chars.len() {
        let c = chars[i];
        if let Some(d) = zh_digit(c) {
            if (c == '两' || c == '俩' || c == '仨') && i != start {
                break;
            }
            if current.is_some() {
                break; // "一二" is not one number
            }
            current = Some(d);
        } else {
            let mult = match c {
                '十' | '拾' => 10,
                '百' | '佰' => 100,
                '千' | '仟' => 1000,
                _ => break,
            };
            let d = match current.take() {
                Some(d) => d,
                None if mult == 10
                    && (total == 0 || !total.is_multiple_of(100) || total >= 100) =>
                {
                    1
                }
                None => break,
            };
            total += d * mult;
        }
        consumed_any = true;
        i += 1;
    }
    if !consumed_any {
        return None;
    }
    total += current.unwrap_or(0);
    Some((f64::from(total), i - start))
}

/// Parses an Arabic or Chinese number at `start`.
pub fn parse_number(chars: &[char], start: usize) -> Option<(f64, usize)> {
    parse_arabic(chars, start).or_else(|| parse_zh(chars, start))
}

/// Value of an English number word (`one` .. `twenty`, `thirty`, `dozen`, `couple`, `half`).
pub fn en_word(word: &str) -> Option<f64> {
    Some(match word {
        "one" | "a" | "an" | "single" => 1.0,
        "two" | "couple" | "pair" => 2.0,
        "three" => 3.0,
        "four" => 4.0,
        "five" => 5.0,
        "six" => 6.0,
        "seven" => 7.0,
        "eight" => 8.0,
        "nine" => 9.0,
        "ten" => 10.0,
        "eleven" => 11.0,
        "twelve" | "dozen" => 12.0,
        "thirteen" => 13.0,
        "fourteen" => 14.0,
        "fifteen" => 15.0,
        "sixteen" => 16.0,
        "seventeen" => 17.0,
        "eighteen" => 18.0,
        "nineteen" => 19.0,
        "twenty" => 20.0,
        "thirty" => 30.0,
        "half" => 0.5,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zh(s: &str) -> Option<(f64, usize)> {
        let c: Vec<char> = s.chars().collect();
        parse_zh(&c, 0)
    }

    #[test]
    fn chinese_numerals() {
        for (s, v, n) in [
            ("三斤", 3.0, 1),
            ("十五个", 15.0, 2),
            ("十个", 10.0, 1),
            ("二十", 20.0, 2),
            ("二十五", 25.0, 3),
            ("一百二十", 120.0, 4),
            ("两百", 200.0, 2),
            ("两斤", 2.0, 1),
            ("二两", 2.0, 1),
            ("一两", 1.0, 1),
        ] {
            assert_eq!(zh(s), Some((v, n)), "{s}");
        }
        assert_eq!(zh("斤"), None);
    }

    #[test]
    fn arabic_numbers() {
        let c: Vec<char> = "3.5斤 12 1234567890".chars().collect();
        assert_eq!(parse_arabic(&c, 0), Some((3.5, 3)));
        assert_eq!(parse_arabic(&c, 5), Some((12.0, 2)));
        assert_eq!(parse_arabic(&c, 8), None);
        assert_eq!(en_word("dozen"), Some(12.0));
    }
}
