//! The product lexicon's input from a catalog CSV given as text (the demo catalog is compiled in).

use super::NluError;
use super::entities::product::ProductEntry;

/// The demo business's catalog, `demo/catalog.csv`.
pub const DEMO_CATALOG_CSV: &str = include_str!("../../demo/catalog.csv");

/// Reads `sku,name_zh,name_en,aliases,...` rows (aliases separated by `|`); other columns ignored.
pub fn parse_catalog_csv(text: &str) -> Result<Vec<ProductEntry>, NluError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| NluError::Catalog(e.to_string()))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| NluError::Catalog(format!("missing column {name}")))
    };
    let (sku, zh, en, aliases) = (
        col("sku")?,
        col("name_zh")?,
        col("name_en")?,
        col("aliases")?,
    );
    let mut out = Vec::new();
    for (n, row) in reader.records().enumerate() {
        let row = row.map_err(|e| NluError::Catalog(format!("row {}: {e}", n + 2)))?;
        let get = |i: usize| row.get(i).unwrap_or("").to_owned();
        out.push(ProductEntry {
            sku: get(sku),
            name_zh: get(zh),
            name_en: get(en),
            aliases: get(aliases)
                .split('|')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
        });
    }
    Ok(out)
}

/// The demo catalog as product entries.
pub fn demo_catalog() -> Result<Vec<ProductEntry>, NluError> {
    parse_catalog_csv(DEMO_CATALOG_CSV)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_catalog_loads() {
        let c = demo_catalog().unwrap();
        assert!(c.len() >= 90);
        let tomato = c.iter().find(|p| p.sku == "VEG-TOMATO").unwrap();
        assert_eq!(tomato.name_zh, "西红柿");
        assert!(tomato.aliases.contains(&"番茄".to_string()));
        assert!(parse_catalog_csv("a,b\n1,2\n").is_err());
    }
}
