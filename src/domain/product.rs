//! Products of the catalog.

use serde::{Deserialize, Serialize};

use crate::domain::{Fen, Lang, Quantity, QuantityError, Unit};

/// A stock-keeping unit code: upper-case letters, digits and dashes, e.g. `VEG-TOMATO`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

/// Why a product definition is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    /// The sku has characters other than A-Z, 0-9 and '-', or is empty or too long.
    #[error("invalid sku {0:?}: use 1-32 characters A-Z, 0-9 and '-'")]
    InvalidSku(String),
    /// A product without a Chinese or English name.
    #[error("product {0} needs both a Chinese and an English name")]
    MissingName(String),
    /// Prices must be positive.
    #[error("product {0} has a non-positive price")]
    BadPrice(String),
}

impl Sku {
    pub fn parse(s: &str) -> Result<Self, ProductError> {
        let t = s.trim().to_ascii_uppercase();
        if t.is_empty()
            || t.len() > 32
            || !t
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(ProductError::InvalidSku(s.to_owned()));
        }
        Ok(Self(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = ProductError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Sku::parse(&s)
    }
}

impl From<Sku> for String {
    fn from(s: Sku) -> String {
        s.0
    }
}

impl std::fmt::Display for Sku {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A product as the catalog sells it: priced per one `unit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub sku: Sku,
    pub name_zh: String,
    pub name_en: String,
    /// Other names customers type (番茄 for 西红柿, potatoes for potato).
    pub aliases: Vec<String>,
    /// Substitutes are chosen within the same category.
    pub category: String,
    /// Warehouse zone where pickers find it.
    pub warehouse_zone: String,
    /// The selling unit: price is per one of these.
    pub unit: Unit,
    pub price: Fen,
    /// Whether the business may offer a substitute when it runs short.
    pub substitutable: bool,
}

impl Product {
    /// Checks a product definition (used when loading catalogs).
    pub fn validate(&self) -> Result<(), ProductError> {
        if self.name_zh.trim().is_empty() || self.name_en.trim().is_empty() {
            return Err(ProductError::MissingName(self.sku.to_string()));
        }
        if self.price.get() <= 0 {
            return Err(ProductError::BadPrice(self.sku.to_string()));
        }
        Ok(())
    }

    pub fn name(&self, lang: Lang) -> &str {
        lang.pick(&self.name_zh, &self.name_en)
    }

    /// A customer's quantity in this product's selling unit; unstated units mean the selling unit.
    pub fn to_selling_quantity(&self, q: Quantity) -> Result<Quantity, QuantityError> {
        q.convert_to(self.unit)
    }

    /// Price per selling unit for display: "¥4.50/斤".
    pub fn price_label(&self, lang: Lang) -> String {
        match lang {
            Lang::Zh => format!("{}/{}", self.price, self.unit.label(lang)),
            Lang::En => format!("{}/{}", self.price, self.unit.label(lang)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn tomato() -> Product {
        Product {
            sku: Sku::parse("VEG-TOMATO").unwrap(),
            name_zh: "西红柿".into(),
            name_en: "tomato".into(),
            aliases: vec!["番茄".into()],
            category: "fruit_veg".into(),
            warehouse_zone: "B".into(),
            unit: Unit::Jin,
            price: Fen::new(450),
            substitutable: true,
        }
    }

    #[test]
    fn sku_is_normalised_and_checked() {
        assert_eq!(Sku::parse(" veg-tomato ").unwrap().as_str(), "VEG-TOMATO");
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("VEG TOMATO").is_err());
        assert!(Sku::parse("西红柿").is_err());
    }

    #[test]
    fn a_kilo_of_tomatoes_is_two_jin() {
        let q = tomato()
            .to_selling_quantity(Quantity::whole(1, Unit::Kg).unwrap())
            .unwrap();
        assert_eq!(q, Quantity::whole(2, Unit::Jin).unwrap());
        assert!(
            tomato()
                .to_selling_quantity(Quantity::whole(3, Unit::Piece).unwrap())
                .is_err()
        );
        assert_eq!(tomato().price_label(Lang::Zh), "¥4.50/斤");
    }
}
