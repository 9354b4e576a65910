//! Loaders for training and evaluation data: Rasa NLU YAML (3.x) and `text<TAB>label` TSV.
//!
//! Only `nlu:` items with an `intent:` key are read; `synonym`, `regex` and `lookup` items and
//! files without an `nlu:` list (such as `faq.yml`) are skipped. Entity annotations
//! (`[两斤](quantity)`, `[x]{"entity": "product"}`) are stripped to their text.

use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use super::NluError;
use super::classifier::Example;

static ANNOTATION: LazyLock<Result<Regex, regex::Error>> =
    LazyLock::new(|| Regex::new(r"\[([^\[\]]*)\](?:\([^()]*\)|\{[^{}]*\})"));

/// Removes Rasa entity annotations, keeping the annotated text.
pub fn strip_annotations(text: &str) -> String {
    match ANNOTATION.as_ref() {
        Ok(re) => re.replace_all(text, "$1").into_owned(),
        Err(_) => text.to_owned(),
    }
}

#[derive(Debug, Deserialize)]
struct RasaFile {
    #[serde(default)]
    nlu: Option<Vec<serde_norway::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Examples {
    Block(String),
    List(Vec<ListItem>),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ListItem {
    Text { text: String },
    Plain(String),
}

/// Parses one Rasa NLU YAML document into examples; `name` is used in error messages.
pub fn parse_rasa_yaml(name: &str, yaml: &str) -> Result<Vec<Example>, NluError> {
    let file: RasaFile =
        serde_norway::from_str(yaml).map_err(|e| NluError::TrainingData(format!("{name}: {e}")))?;
    let mut out = Vec::new();
    for item in file.nlu.unwrap_or_default() {
        let Some(map) = item.as_mapping() else {
            continue;
        };
        let Some(intent) = map.get("intent").and_then(|v| v.as_str()) else {
            continue;
        };
        let Some(raw) = map.get("examples") else {
            continue;
        };
        let examples: Examples = serde_norway::from_value(raw.clone())
            .map_err(|e| NluError::TrainingData(format!("{name}: intent {intent}: {e}")))?;
        let lines: Vec<String> = match examples {
            Examples::Block(block) => block
                .lines()
                .filter_map(|l| l.trim_start().strip_prefix('-'))
                .map(|l| l.trim().to_owned())
                .collect(),
            Examples::List(items) => items
                .into_iter()
                .map(|i| match i {
                    ListItem::Text { text } | ListItem::Plain(text) => text,
                })
                .collect(),
        };
        for line in lines {
            let text = strip_annotations(&line);
            let text = text.trim();
            if !text.is_empty() {
                out.push(Example::new(text, intent.trim()));
            }
        }
    }
    Ok(out)
}

/// Parses several `(name, contents)` YAML files, in the given order.
pub fn parse_rasa_files<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<Example>, NluError> {
    let mut out = Vec::new();
    for (name, text) in files {
        out.extend(parse_rasa_yaml(name, text)?);
    }
    Ok(out)
}

/// Parses `text<TAB>label` lines; blank lines and lines starting with `#` are skipped.
pub fn parse_tsv(name: &str, tsv: &str) -> Result<Vec<Example>, NluError> {
    let mut out = Vec::new();
    for (n, line) in tsv.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((text, label)) = line.rsplit_once('\t') else {
            return Err(NluError::TrainingData(format!(
                "{name}:{}: expected text<TAB>label",
                n + 1
            )));
        };
        let label = label.trim();
        if label.is_empty() {
            return Err(NluError::TrainingData(format!(
                "{name}:{}: empty label",
                n + 1
            )));
        }
        out.push(Example::new(text.trim(), label));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_both_annotation_forms() {
        assert_eq!(
            strip_annotations("我要[两斤](quantity)[西红柿](product)"),
            "我要两斤西红柿"
        );
        assert_eq!(
            strip_annotations(r#"buy [tomatoes]{"entity": "product"} now"#),
            "buy tomatoes now"
        );
        assert_eq!(strip_annotations("a [b] c (d)"), "a [b] c (d)");
    }

    #[test]
    fn reads_block_and_list_examples_and_skips_other_items() {
        let yaml = r#"version: "3.1"
nlu:
- intent: order
  examples: |
    - 我要[两斤](quantity)[西红柿](product)
    - buy 3 apples
- synonym: tomato
  examples: |
    - 番茄
- intent: greet
  examples:
  - text: hi
  - hello
"#;
        let ex = parse_rasa_yaml("t.yml", yaml).unwrap();
        let got: Vec<(&str, &str)> = ex
            .iter()
            .map(|e| (e.text.as_str(), e.label.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("我要两斤西红柿", "order"),
                ("buy 3 apples", "order"),
                ("hi", "greet"),
                ("hello", "greet")
            ]
        );
        assert!(
            parse_rasa_yaml("faq.yml", "faq:\n  a: b\n")
                .unwrap()
                .is_empty()
        );
        assert!(parse_rasa_yaml("bad.yml", "nlu: [").is_err());
    }

    #[test]
    fn reads_tsv() {
        let ex = parse_tsv("t", "hi there\tgreet\n\n# c\nbye\tgoodbye\r\n").unwrap();
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[1].label, "goodbye");
        assert!(parse_tsv("t", "no tab").is_err());
    }
}
