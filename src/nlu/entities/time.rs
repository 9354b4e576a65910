//! Delivery times relative to `now` in Asia/Shanghai.
//!
//! A message may name a day (今天 明天 后天, 周六 这周六 下周一 星期天, 25号, today tomorrow
//! Saturday next Monday), a part of the day (morning 08-12, noon 11-13, afternoon 12-18,
//! evening 18-21; 上午 中午 下午 晚上 早上 傍晚), a clock time or range (10点到12点, 10-12点,
//! 下午3点半, 6-7pm, at 3pm, 10:00-12:00) and a relative shift (推迟一个小时, an hour later).
//!
//! Resolution: the window is the clock range, else the part of day, else the whole day; a clock
//! time without an end lasts one hour; without a named day the window is today, or tomorrow
//! when it has already ended. Weeks start on Monday: 下周一 / next Monday is the Monday of next
//! week, an unprefixed 周六 / Saturday is the next Saturday (today included), 这周六 / this
//! Saturday the one of this week (next week's when it is past).

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;
use regex::Regex;

/// The timezone of the demo business and of every `time` bound.
pub const TZ: Tz = chrono_tz::Asia::Shanghai;

/// A resolved time window `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Inclusive start.
    pub start: DateTime<Tz>,
    /// Exclusive end.
    pub end: DateTime<Tz>,
}

/// What the time extractor found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeFound {
    /// The window, if a day, part of day or clock time was named.
    pub range: Option<TimeRange>,
    /// A relative shift in minutes (推迟一个小时 = +60, 提前半小时 = -30).
    pub shift_minutes: Option<i64>,
    /// Char spans of the time expressions, in text order.
    pub spans: Vec<(usize, usize)>,
    /// Char span of the shift expression.
    pub shift_span: Option<(usize, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    Morning,
    Noon,
    Afternoon,
    Dusk,
    Evening,
}

impl Part {
    fn hours(self) -> (u32, u32) {
        match self {
            Part::Morning => (8, 12),
            Part::Noon => (11, 13),
            Part::Afternoon => (12, 18),
            Part::Dusk => (17, 19),
            Part::Evening => (18, 21),
        }
    }
    fn is_pm(self) -> bool {
        !matches!(self, Part::Morning)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Day {
    Offset(i64),
    Weekday { day: Weekday, week: WeekRef },
    Date { month: Option<u32>, day: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum WeekRef {
    Upcoming,
    This,
    Next(i64),
}

fn re(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

/// Fixed words: (pattern, day offset, part of day). English entries need word boundaries.
const WORDS: &[(&str, Option<i64>, Option<Part>)] = &[
    ("大后天", Some(3), None),
    ("后天", Some(2), None),
    ("明天", Some(1), None),
    ("明日", Some(1), None),
    ("明儿", Some(1), None),
    ("今天", Some(0), None),
    ("今日", Some(0), None),
    ("今儿", Some(0), None),
    ("明早", Some(1), Some(Part::Morning)),
    ("明晚", Some(1), Some(Part::Evening)),
    ("今早", Some(0), Some(Part::Morning)),
    ("今晚", Some(0), Some(Part::Evening)),
    ("早上", None, Some(Part::Morning)),
    ("早晨", None, Some(Part::Morning)),
    ("上午", None, Some(Part::Morning)),
    ("中午", None, Some(Part::Noon)),
    ("下午", None, Some(Part::Afternoon)),
    ("傍晚", None, Some(Part::Dusk)),
    ("晚上", None, Some(Part::Evening)),
    ("晚间", None, Some(Part::Evening)),
    ("夜里", None, Some(Part::Evening)),
    ("day after tomorrow", Some(2), None),
    ("tomorrow", Some(1), None),
    ("tomorow", Some(1), None),
    ("tommorow", Some(1), None),
    ("tommorrow", Some(1), None),
    ("tmrw", Some(1), None),
    ("tmr", Some(1), None),
    ("today", Some(0), None),
    ("tonight", Some(0), Some(Part::Evening)),
    ("morning", None, Some(Part::Morning)),
    ("noon", None, Some(Part::Noon)),
    ("midday", None, Some(Part::Noon)),
    ("lunchtime", None, Some(Part::Noon)),
    ("afternoon", None, Some(Part::Afternoon)),
    ("evening", None, Some(Part::Evening)),
    ("night", None, Some(Part::Evening)),
];

static WEEKDAY_ZH: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(r"(这|本|下下|下)?个?(?:周|星期|礼拜)([一二三四五六日天1-7])|(这|本|下)?(?:个)?周末")
});
static WEEKDAY_EN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(?:(this|next|coming)\s+)?(monday|mon|tuesday|tues|tue|wednesday|weds|wed|thursday|thurs|thur|thu|friday|fri|saturday|sat|sunday|sun|weekend)\b\.?",
    )
});
static DATE_ZH: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?:(\d{1,2}|[一二三四五六七八九十]{1,3})月)?(\d{1,2}|[一二三四五六七八九十]{1,3})(?:号|日)",
    )
});
/// A greeting that names a part of the day: "good morning", or "morning!" opening a message.
static GREETING_EN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(r"\bgood\s+(?:morning|afternoon|evening)\b|^\W*(?:morning|evening)\s*(?:[!~～,，.。]|$)")
});
/// "tomorrow am", "sat pm": a bare am/pm after a day names the part of the day ("I am home"
/// does not).
static DAY_AMPM_EN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(?:tomorrow|tmrw|tmr|today|mon|monday|tue|tues|tuesday|wed|weds|wednesday|thu|thur|thurs|thursday|fri|friday|sat|saturday|sun|sunday)\.?\s+(am|pm)\b",
    )
});
/// "Dec 2nd", "december 2", "2 Dec", "the 2nd of December".
static DATE_EN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(?:(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?|(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*)\b",
    )
});
const MONTHS_EN: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const ZH_NUM: &str = r"\d{1,2}|[零一二两三四五六七八九十]{1,3}";
static CLOCK_RANGE_ZH: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(&format!(
        r"({ZH_NUM})(点|时|[:：]\d{{2}})?(半)?\s*(?:到|至|-|~|～|—|－)\s*({ZH_NUM})(点|时|[:：]\d{{2}})(半)?"
    ))
});
static CLOCK_ZH: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(&format!(
        r"({ZH_NUM})(?:(点|时)(?:(半)|(一刻)|(\d{{1,2}})分?|([一二三四五六七八九十]{{1,3}})分)?|[:：](\d{{2}}))(钟)?"
    ))
});
static CLOCK_RANGE_EN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(between|from)?\s*(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\s*(?:-|–|~|to|and|until|till)\s*(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b",
    )
});
static CLOCK_EN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"\b(at|around|by|before|after|about|@)?\s*(\d{1,2})(?::(\d{2}))?\s*(am|pm|o'clock|oclock|ish)?\b",
    )
});
static SHIFT_ZH: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(推迟|推后|延后|延迟|往后推|往后延|晚|提前|早)(?:送|点|个)?\s*(半|一|两|二|三|四|\d+)?\s*个?\s*(半)?\s*(小时|钟头|分钟)",
    )
});
static SHIFT_EN: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"\b(half an?|an?|one|two|three|\d+)\s*(hours?|hrs?|minutes?|mins?)\b"));

/// Compiles this module's patterns now (they are compiled on first use otherwise): called at
/// start, so no customer's message pays for it.
pub(crate) fn compile_patterns() {
    LazyLock::force(&WEEKDAY_ZH);
    LazyLock::force(&WEEKDAY_EN);
    LazyLock::force(&DATE_ZH);
    LazyLock::force(&DAY_AMPM_EN);
    LazyLock::force(&GREETING_EN);
    LazyLock::force(&DATE_EN);
    LazyLock::force(&CLOCK_RANGE_ZH);
    LazyLock::force(&CLOCK_ZH);
    LazyLock::force(&CLOCK_RANGE_EN);
    LazyLock::force(&CLOCK_EN);
    LazyLock::force(&SHIFT_ZH);
    LazyLock::force(&SHIFT_EN);
}

fn zh_or_arabic(s: &str) -> Option<u32> {
    if let Ok(v) = s.parse::<u32>() {
        return Some(v);
    }
    let chars: Vec<char> = s.chars().collect();
    match crate::nlu::numerals::parse_zh(&chars, 0) {
        Some((v, n)) if n == chars.len() => Some(v as u32),
        _ => None,
    }
}

struct Scan<'a> {
    text: &'a str,
    byte_to_char: Vec<usize>,
    taken: Vec<bool>,
}

impl Scan<'_> {
    fn span(&self, s: usize, e: usize) -> (usize, usize) {
        (self.byte_to_char[s], self.byte_to_char[e])
    }
    fn free(&self, s: usize, e: usize) -> bool {
        let (a, b) = self.span(s, e);
        !(a..b).any(|i| self.taken.get(i).copied().unwrap_or(true))
    }
    fn take(&mut self, s: usize, e: usize) -> (usize, usize) {
        let (a, b) = self.span(s, e);
        for i in a..b {
            if let Some(t) = self.taken.get_mut(i) {
                *t = true;
            }
        }
        (a, b)
    }
    fn word_bounded(&self, s: usize, e: usize) -> bool {
        let before = self.text[..s].chars().next_back();
        let after = self.text[e..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    }
}

#[derive(Debug, Clone, Copy)]
struct Clock {
    h: u32,
    m: u32,
    ampm: Option<bool>, // Some(true) = pm
}

fn weekday_from(s: &str) -> Option<Weekday> {
    Some(match s {
        "一" | "1" | "monday" | "mon" => Weekday::Mon,
        "二" | "2" | "tuesday" | "tues" | "tue" => Weekday::Tue,
        "三" | "3" | "wednesday" | "weds" | "wed" => Weekday::Wed,
        "四" | "4" | "thursday" | "thurs" | "thur" | "thu" => Weekday::Thu,
        "五" | "5" | "friday" | "fri" => Weekday::Fri,
        "六" | "6" | "saturday" | "sat" | "weekend" => Weekday::Sat,
        "日" | "天" | "7" | "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

/// Finds times in folded chars relative to `now`, skipping chars marked in `blocked`.
pub fn find(chars: &[char], blocked: &[bool], now: DateTime<Tz>) -> TimeFound {
    let text: String = chars.iter().collect();
    let mut byte_to_char = vec![0; text.len() + 1];
    for (ci, (bi, c)) in text.char_indices().enumerate() {
        for k in 0..c.len_utf8() {
            byte_to_char[bi + k] = ci;
        }
    }
    byte_to_char[text.len()] = chars.len();
    let taken = (0..chars.len())
        .map(|i| blocked.get(i).copied().unwrap_or(false))
        .collect();
    let mut scan = Scan {
        text: &text,
        byte_to_char,
        taken,
    };
    let mut found = TimeFound::default();
    let mut day: Option<Day> = None;
    let mut part: Option<Part> = None;
    let mut clock: Option<(Clock, Option<Clock>)> = None;
    let mut bound: Option<Bound> = None;

    // Relative shift first, so "晚一个小时" is not read as evening + a quantity.
    if let Some(r) = SHIFT_ZH.as_ref()
        && let Some(c) = r.captures(&text)
        && let Some(m) = c.get(0)
    {
        let verb = c.get(1).map_or("", |v| v.as_str());
        let num = c.get(2).map(|v| v.as_str());
        let half = c.get(3).is_some();
        let unit = c.get(4).map_or("", |v| v.as_str());
        let n = match num {
            Some("半") => 0.5,
            Some(s) => f64::from(zh_or_arabic(s).unwrap_or(1)),
            None => 1.0,
        } + if half { 0.5 } else { 0.0 };
        let minutes = if unit == "分钟" { n } else { n * 60.0 };
        let sign = if matches!(verb, "提前" | "早") {
            -1.0
        } else {
            1.0
        };
        found.shift_minutes = Some((sign * minutes).round() as i64);
        found.shift_span = Some(scan.take(m.start(), m.end()));
    } else if let Some(r) = SHIFT_EN.as_ref()
        && let Some(c) = r.captures(&text)
        && let Some(m) = c.get(0)
    {
        let later = ["later", "back", "delay", "postpone", "push"]
            .iter()
            .any(|w| text.contains(w));
        let earlier = ["earlier", "sooner", "forward", "move up", "bring"]
            .iter()
            .any(|w| text.contains(w));
        if later != earlier {
            let num = c.get(1).map_or("", |v| v.as_str());
            let n: f64 = match num {
                "a" | "an" | "one" => 1.0,
                "two" => 2.0,
                "three" => 3.0,
                s if s.starts_with("half") => 0.5,
                s => s.parse().unwrap_or(1.0),
            };
            let unit = c.get(2).map_or("", |v| v.as_str());
            let minutes = if unit.starts_with('h') { n * 60.0 } else { n };
            let sign = if earlier { -1.0 } else { 1.0 };
            found.shift_minutes = Some((sign * minutes).round() as i64);
            found.shift_span = Some(scan.take(m.start(), m.end()));
        }
    }

    // "Morning!" / "good evening" greet; they are not a delivery time.
    if let Some(r) = GREETING_EN.as_ref() {
        for m in r.find_iter(&text) {
            scan.take(m.start(), m.end());
        }
    }

    // Fixed words.
    for &(w, d, p) in WORDS {
        let mut from = 0;
        while let Some(pos) = text[from..].find(w) {
            let (s, e) = (from + pos, from + pos + w.len());
            from = e;
            let ascii = w.is_ascii();
            if !scan.free(s, e) || (ascii && !scan.word_bounded(s, e)) {
                continue;
            }
            if let Some(d) = d
                && day.is_none()
            {
                day = Some(Day::Offset(d));
            }
            if let Some(p) = p
                && part.is_none()
            {
                part = Some(p);
            }
            found.spans.push(scan.take(s, e));
        }
    }

    // Weekdays.
    if let Some(r) = WEEKDAY_ZH.as_ref() {
        for c in r.captures_iter(&text) {
            let Some(m) = c.get(0) else { continue };
            if !scan.free(m.start(), m.end()) {
                continue;
            }
            let (prefix, wd) = match (c.get(2), c.get(3)) {
                (Some(d), _) => (c.get(1).map(|p| p.as_str()), weekday_from(d.as_str())),
                (None, p) => (p.map(|p| p.as_str()), Some(Weekday::Sat)),
            };
            let Some(wd) = wd else { continue };
            let week = match prefix {
                Some("这" | "本") => WeekRef::This,
                Some("下") => WeekRef::Next(1),
                Some("下下") => WeekRef::Next(2),
                _ => WeekRef::Upcoming,
            };
            if day.is_none() {
                day = Some(Day::Weekday { day: wd, week });
            }
            found.spans.push(scan.take(m.start(), m.end()));
        }
    }
    if let Some(r) = WEEKDAY_EN.as_ref() {
        for c in r.captures_iter(&text) {
            let Some(m) = c.get(0) else { continue };
            if !scan.free(m.start(), m.end()) {
                continue;
            }
            let Some(wd) = c.get(2).and_then(|d| weekday_from(d.as_str())) else {
                continue;
            };
            let week = match c.get(1).map(|p| p.as_str()) {
                Some("this") => WeekRef::This,
                Some("next") => WeekRef::Next(1),
                _ => WeekRef::Upcoming,
            };
            if day.is_none() {
                day = Some(Day::Weekday { day: wd, week });
            }
            found.spans.push(scan.take(m.start(), m.end()));
        }
    }
    if let Some(r) = DAY_AMPM_EN.as_ref() {
        for c in r.captures_iter(&text) {
            let Some(m) = c.get(1) else { continue };
            if !scan.free(m.start(), m.end()) {
                continue;
            }
            if part.is_none() {
                part = Some(if m.as_str() == "am" {
                    Part::Morning
                } else {
                    Part::Afternoon
                });
            }
            found.spans.push(scan.take(m.start(), m.end()));
        }
    }
    if let Some(r) = DATE_EN.as_ref() {
        for c in r.captures_iter(&text) {
            let Some(m) = c.get(0) else { continue };
            if !scan.free(m.start(), m.end()) {
                continue;
            }
            let (mon, d) = match (c.get(1), c.get(2), c.get(3), c.get(4)) {
                (Some(mo), Some(d), _, _) => (mo.as_str(), d.as_str()),
                (_, _, Some(d), Some(mo)) => (mo.as_str(), d.as_str()),
                _ => continue,
            };
            let month = MONTHS_EN
                .iter()
                .position(|x| *x == mon)
                .map(|i| i as u32 + 1);
            let Ok(d) = d.parse::<u32>() else { continue };
            if !(1..=31).contains(&d) {
                continue;
            }
            if day.is_none() {
                day = Some(Day::Date { month, day: d });
            }
            found.spans.push(scan.take(m.start(), m.end()));
        }
    }
    // Dates: 25号, 11月25日 (not 3号楼, 100号).
    if let Some(r) = DATE_ZH.as_ref() {
        for c in r.captures_iter(&text) {
            let Some(m) = c.get(0) else { continue };
            let next = text[m.end()..].chars().next();
            if !scan.free(m.start(), m.end())
                || next.is_some_and(|n| "楼门院线房室弄栋单元路街巷号".contains(n))
                || text[..m.start()]
                    .chars()
                    .next_back()
                    .is_some_and(|p| p.is_ascii_digit())
            {
                continue;
            }
            let month = c.get(1).and_then(|v| zh_or_arabic(v.as_str()));
            let Some(d) = c.get(2).and_then(|v| zh_or_arabic(v.as_str())) else {
                continue;
            };
            if !(1..=31).contains(&d) || month.is_some_and(|mo| !(1..=12).contains(&mo)) {
                continue;
            }
            if day.is_none() {
                day = Some(Day::Date { month, day: d });
            }
            found.spans.push(scan.take(m.start(), m.end()));
        }
    }

    // Clock ranges and times.
    let zh_clock = |h: &str, suffix: Option<&str>, half: bool| -> Option<Clock> {
        let h = zh_or_arabic(h)?;
        let m = match suffix {
            Some(s) if s.starts_with(':') || s.starts_with('：') => s
                [s.char_indices().nth(1).map_or(s.len(), |x| x.0)..]
                .parse()
                .ok()?,
            _ if half => 30,
            _ => 0,
        };
        (h <= 24 && m < 60).then_some(Clock { h, m, ampm: None })
    };
    if let Some(r) = CLOCK_RANGE_ZH.as_ref()
        && let Some(c) = r
            .captures_iter(&text)
            .find(|c| c.get(0).is_some_and(|m| scan.free(m.start(), m.end())))
        && let Some(m) = c.get(0)
    {
        let a = c
            .get(1)
            .and_then(|h| zh_clock(h.as_str(), c.get(2).map(|x| x.as_str()), c.get(3).is_some()));
        let b = c
            .get(4)
            .and_then(|h| zh_clock(h.as_str(), c.get(5).map(|x| x.as_str()), c.get(6).is_some()));
        if let (Some(a), Some(b)) = (a, b) {
            clock = Some((a, Some(b)));
            found.spans.push(scan.take(m.start(), m.end()));
        }
    }
    if clock.is_none()
        && let Some(r) = CLOCK_ZH.as_ref()
    {
        for c in r.captures_iter(&text) {
            let Some(m) = c.get(0) else { continue };
            if !scan.free(m.start(), m.end()) {
                continue;
            }
            let hs = c.get(1).map_or("", |v| v.as_str());
            let Some(h) = zh_or_arabic(hs) else { continue };
            let minutes = if c.get(3).is_some() {
                Some(30)
            } else if c.get(4).is_some() {
                Some(15)
            } else if let Some(v) = c.get(5).or(c.get(6)).or(c.get(7)) {
                zh_or_arabic(v.as_str())
            } else {
                Some(0)
            };
            let Some(mi) = minutes else { continue };
            // "一点" is also "a little": accept it only with a part of day, 钟, minutes or a
            // following delivery word.
            let after: String = text[m.end()..].chars().take(2).collect();
            let plain_one = hs == "一"
                && c.get(2).is_some_and(|p| p.as_str() == "点")
                && c.get(3).is_none()
                && c.get(5).is_none()
                && c.get(6).is_none()
                && c.get(8).is_none();
            if plain_one
                && part.is_none()
                && !["送", "到", "前", "后", "左", "以"]
                    .iter()
                    .any(|w| after.starts_with(w))
            {
                continue;
            }
            if h > 24 || mi >= 60 {
                continue;
            }
            clock = Some((
                Clock {
                    h,
                    m: mi,
                    ampm: None,
                },
                None,
            ));
            // 10点前 / 10点之前 / 10点以前: by then; 6点以后 / 6点之后 / 6点后: from then.
            let rest = &text[m.end()..];
            let mut end = m.end();
            for (w, b) in [
                ("之前", Bound::Before),
                ("以前", Bound::Before),
                ("前", Bound::Before),
                ("之后", Bound::After),
                ("以后", Bound::After),
                ("后", Bound::After),
            ] {
                if rest.starts_with(w) {
                    bound = Some(b);
                    end += w.len();
                    break;
                }
            }
            found.spans.push(scan.take(m.start(), end));
            break;
        }
    }
    let en_clock = |h: Option<regex::Match>,
                    m: Option<regex::Match>,
                    ap: Option<regex::Match>|
     -> Option<Clock> {
        let h: u32 = h?.as_str().parse().ok()?;
        let m: u32 = m.map_or(Some(0), |m| m.as_str().parse().ok())?;
        let ampm = ap.and_then(|a| match a.as_str() {
            "am" => Some(false),
            "pm" => Some(true),
            _ => None,
        });
        (h <= 24 && m < 60).then_some(Clock { h, m, ampm })
    };
    if clock.is_none()
        && let Some(r) = CLOCK_RANGE_EN.as_ref()
    {
        for c in r.captures_iter(&text) {
            let Some(m) = c.get(0) else { continue };
            if !scan.free(m.start(), m.end()) {
                continue;
            }
            let has_marker = c.get(1).is_some()
                || c.get(4).is_some()
                || c.get(7).is_some()
                || (c.get(3).is_some() && c.get(6).is_some());
            // "thursday 10-12": next to a named day or part of day, a bare range of hours is a
            // time ("2-3 jin" is not: a unit follows it).
            let unit_after = text[m.end()..]
                .trim_start()
                .chars()
                .next()
                .is_some_and(|ch| ch.is_alphanumeric() || ch > '\u{2e7f}');
            let hours_like = |g: Option<regex::Match>| {
                g.and_then(|h| h.as_str().parse::<u32>().ok())
                    .is_some_and(|h| (1..=21).contains(&h))
            };
            let day_context = (day.is_some() || part.is_some())
                && !unit_after
                && hours_like(c.get(2))
                && hours_like(c.get(5));
            if !has_marker && !day_context {
                continue;
            }
            let a = en_clock(c.get(2), c.get(3), c.get(4));
            let b = en_clock(c.get(5), c.get(6), c.get(7));
            if let (Some(mut a), Some(b)) = (a, b) {
                if a.ampm.is_none()
                    && b.ampm == Some(true)
                    && a.h < 12
                    && a.h + 12 <= b.h + 12
                    && a.h <= b.h
                {
                    a.ampm = Some(true);
                }
                clock = Some((a, Some(b)));
                found.spans.push(scan.take(m.start(), m.end()));
                break;
            }
        }
    }
    if clock.is_none()
        && let Some(r) = CLOCK_EN.as_ref()
    {
        for c in r.captures_iter(&text) {
            let Some(m) = c.get(0) else { continue };
            if !scan.free(m.start(), m.end()) {
                continue;
            }
            // A bare number is a clock time only with am/pm, o'clock, hh:mm or "at/by/around".
            if c.get(4).is_none() && c.get(3).is_none() && c.get(1).is_none() {
                continue;
            }
            if c.get(4).is_none() && c.get(3).is_none() {
                // "at 3" but not "about 3 apples": the next word must not be a letter word.
                let rest = text[m.end()..].trim_start();
                if rest.chars().next().is_some_and(|ch| ch.is_alphanumeric())
                    && !rest.starts_with("in ")
                    && !rest.starts_with("to")
                {
                    continue;
                }
            }
            if let Some(cl) = en_clock(c.get(2), c.get(3), c.get(4)) {
                clock = Some((cl, None));
                bound = match c.get(1).map(|p| p.as_str()) {
                    Some("before" | "by") => Some(Bound::Before),
                    Some("after") => Some(Bound::After),
                    _ => None,
                };
                // Keep the preposition out of the span.
                let start = c.get(2).map_or(m.start(), |h| h.start());
                found.spans.push(scan.take(start, m.end()));
                break;
            }
        }
    }

    found.spans.sort_unstable();
    found.range = resolve(now, day, part, clock, bound);
    found
}

fn to_24h(c: Clock, part: Option<Part>) -> u32 {
    match c.ampm {
        Some(true) if c.h < 12 => c.h + 12,
        Some(false) if c.h == 12 => 0,
        Some(_) => c.h,
        None => match part {
            Some(Part::Noon) if c.h < 11 => c.h + 12,
            Some(Part::Noon) => c.h,
            Some(p) if p.is_pm() && c.h < 12 => c.h + 12,
            Some(_) => c.h,
            // Deliveries run 08-21: a bare 1-7 o'clock means the afternoon.
            None if (1..=7).contains(&c.h) => c.h + 12,
            None => c.h,
        },
    }
}

fn at(date: NaiveDate, h: u32, m: u32) -> Option<DateTime<Tz>> {
    let naive = if h >= 24 {
        date.succ_opt()?
            .and_time(NaiveTime::from_hms_opt(h - 24, m, 0)?)
    } else {
        date.and_time(NaiveTime::from_hms_opt(h, m, 0)?)
    };
    TZ.from_local_datetime(&naive).earliest()
}

fn resolve_day(now: DateTime<Tz>, day: Day) -> Option<NaiveDate> {
    let today = now.date_naive();
    match day {
        Day::Offset(d) => today.checked_add_signed(Duration::days(d)),
        Day::Weekday { day, week } => {
            let cur = i64::from(today.weekday().num_days_from_monday());
            let target = i64::from(day.num_days_from_monday());
            let delta = match week {
                WeekRef::Upcoming => (target - cur).rem_euclid(7),
                WeekRef::This if target >= cur => target - cur,
                WeekRef::This => target - cur + 7,
                WeekRef::Next(n) => 7 * n - cur + target,
            };
            today.checked_add_signed(Duration::days(delta))
        }
        Day::Date { month, day } => {
            let (y, m) = (today.year(), month.unwrap_or(today.month()));
            let d = NaiveDate::from_ymd_opt(y, m, day)?;
            if d >= today {
                Some(d)
            } else if month.is_some() {
                NaiveDate::from_ymd_opt(y + 1, m, day)
            } else {
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                NaiveDate::from_ymd_opt(ny, nm, day)
            }
        }
    }
}

/// "Before 10" / "after 6" on a single clock time.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bound {
    Before,
    After,
}

fn resolve(
    now: DateTime<Tz>,
    day: Option<Day>,
    part: Option<Part>,
    clock: Option<(Clock, Option<Clock>)>,
    bound: Option<Bound>,
) -> Option<TimeRange> {
    if day.is_none() && part.is_none() && clock.is_none() {
        return None;
    }
    let hours = |date: NaiveDate| -> Option<TimeRange> {
        match (clock, part) {
            (Some((a, b)), _) => {
                let ha = to_24h(a, part);
                let start = at(date, ha, a.m)?;
                let end = match b {
                    Some(b) => {
                        let mut hb = to_24h(b, part);
                        if b.ampm.is_none() && hb < ha && hb + 12 > ha && hb < 12 {
                            hb += 12;
                        }
                        at(date, hb, b.m)?
                    }
                    None => start + Duration::hours(1),
                };
                // A one-sided time runs from the part of day's (or the delivery day's, 08-21)
                // opening, or to its close.
                let (open, close) = part.map_or((8, 21), Part::hours);
                let (start, end) = match (b, bound) {
                    (None, Some(Bound::Before)) => {
                        let o = at(date, open, 0)?;
                        (
                            if o < start {
                                o
                            } else {
                                start - Duration::hours(1)
                            },
                            start,
                        )
                    }
                    (None, Some(Bound::After)) => {
                        let c = at(date, close, 0)?;
                        (start, if c > start { c } else { end })
                    }
                    _ => (start, end),
                };
                (end > start).then_some(TimeRange { start, end })
            }
            (None, Some(p)) => {
                let (a, b) = p.hours();
                Some(TimeRange {
                    start: at(date, a, 0)?,
                    end: at(date, b, 0)?,
                })
            }
            (None, None) => Some(TimeRange {
                start: at(date, 0, 0)?,
                end: at(date, 24, 0)?,
            }),
        }
    };
    match day {
        Some(d) => hours(resolve_day(now, d)?),
        None => {
            let today = now.date_naive();
            let r = hours(today)?;
            if r.end <= now {
                hours(today.succ_opt()?)
            } else {
                Some(r)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Tz> {
        // Tuesday 2026-11-24 09:30 in Shanghai.
        TZ.with_ymd_and_hms(2026, 11, 24, 9, 30, 0)
            .single()
            .unwrap()
    }

    fn t(text: &str) -> Option<(String, String)> {
        let chars: Vec<char> = crate::nlu::text::fold(text).chars().collect();
        find(&chars, &[], now())
            .range
            .map(|r| (r.start.to_rfc3339(), r.end.to_rfc3339()))
    }

    fn pair(a: &str, b: &str) -> Option<(String, String)> {
        Some((format!("2026-{a}:00+08:00"), format!("2026-{b}:00+08:00")))
    }

    #[test]
    fn days_and_parts() {
        assert_eq!(t("明天上午送"), pair("11-25T08:00", "11-25T12:00"));
        assert_eq!(t("后天下午"), pair("11-26T12:00", "11-26T18:00"));
        assert_eq!(t("今晚"), pair("11-24T18:00", "11-24T21:00"));
        assert_eq!(t("周六"), pair("11-28T00:00", "11-29T00:00"));
        assert_eq!(t("下周一上午"), pair("11-30T08:00", "11-30T12:00"));
        assert_eq!(t("星期天晚上"), pair("11-29T18:00", "11-29T21:00"));
        assert_eq!(t("tomorrow morning"), pair("11-25T08:00", "11-25T12:00"));
        assert_eq!(
            t("next monday afternoon"),
            pair("11-30T12:00", "11-30T18:00")
        );
        assert_eq!(t("Saturday evening"), pair("11-28T18:00", "11-28T21:00"));
        assert_eq!(t("这周六"), pair("11-28T00:00", "11-29T00:00"));
        assert_eq!(t("26号上午"), pair("11-26T08:00", "11-26T12:00"));
    }

    #[test]
    fn abbreviations_and_english_dates() {
        assert_eq!(t("fri evening"), pair("11-27T18:00", "11-27T21:00"));
        assert_eq!(t("sat morning pls"), pair("11-28T08:00", "11-28T12:00"));
        assert_eq!(t("tomorrow am"), pair("11-25T08:00", "11-25T12:00"));
        assert_eq!(t("Thu pm"), pair("11-26T12:00", "11-26T18:00"));
        assert_eq!(t("thurs 10 to 12"), pair("11-26T10:00", "11-26T12:00"));
        assert_eq!(t("thursday 10-12"), pair("11-26T10:00", "11-26T12:00"));
        assert_eq!(t("tomorrow, like 4ish"), pair("11-25T16:00", "11-25T17:00"));
        assert_eq!(
            t("2-3 jin tomatoes tomorrow"),
            pair("11-25T00:00", "11-26T00:00")
        );
        assert_eq!(t("Dec 2nd, evening"), pair("12-02T18:00", "12-02T21:00"));
        assert_eq!(
            t("the 28th of November"),
            pair("11-28T00:00", "11-29T00:00")
        );
        // "am" that is not a time, greetings that are not times.
        assert_eq!(t("I am at home"), None);
        assert_eq!(t("morning～ 2 jin tomatoes"), None);
        assert_eq!(
            t("Good morning! tomorrow evening please"),
            pair("11-25T18:00", "11-25T21:00")
        );
    }

    #[test]
    fn clock_ranges() {
        assert_eq!(t("明天10点到12点"), pair("11-25T10:00", "11-25T12:00"));
        assert_eq!(t("10-12点"), pair("11-24T10:00", "11-24T12:00"));
        assert_eq!(t("tomorrow 6-7pm"), pair("11-25T18:00", "11-25T19:00"));
        assert_eq!(t("下午3点半"), pair("11-24T15:30", "11-24T16:30"));
        assert_eq!(t("晚上6点到8点"), pair("11-24T18:00", "11-24T20:00"));
        assert_eq!(t("at 3pm"), pair("11-24T15:00", "11-24T16:00"));
        assert_eq!(t("周六上午10点前送到"), pair("11-28T08:00", "11-28T10:00"));
        assert_eq!(t("晚上7点以后"), pair("11-24T19:00", "11-24T21:00"));
        assert_eq!(t("tomorrow before 5pm"), pair("11-25T08:00", "11-25T17:00"));
        assert_eq!(t("8点"), pair("11-25T08:00", "11-25T09:00"));
        assert_eq!(
            t("tomorrow between 2 and 4pm"),
            pair("11-25T14:00", "11-25T16:00")
        );
    }

    #[test]
    fn shifts_and_non_times() {
        let chars: Vec<char> = "能不能推迟一个小时".chars().collect();
        assert_eq!(find(&chars, &[], now()).shift_minutes, Some(60));
        let chars: Vec<char> = "提前半小时".chars().collect();
        assert_eq!(find(&chars, &[], now()).shift_minutes, Some(-30));
        let chars: Vec<char> = "can you push it back an hour".chars().collect();
        assert_eq!(find(&chars, &[], now()).shift_minutes, Some(60));
        assert_eq!(t("来一点西红柿"), None);
        assert_eq!(t("3 apples"), None);
        assert_eq!(t("南京东路100号3号楼"), None);
    }
}
