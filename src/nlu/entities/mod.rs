//! Rule- and gazetteer-based entity extraction, and the binding of quantities to products.

pub mod address;
pub mod contact;
pub mod product;
pub mod quantity;
pub mod substitution;
pub mod time;

use product::ProductMention;
use quantity::QuantityMention;

/// Words allowed between a quantity and its product ("两斤的西红柿", "a bunch of spinach",
/// "番茄来3斤", "tomatoes x2").
const GAP_WORDS: &[&str] = &[
    "",
    "的",
    "of",
    "来",
    "要",
    "买",
    "各",
    ":",
    "：",
    "x",
    "×",
    "*",
    "改成",
    "改为",
    "换成",
    "变成",
    "减到",
    "加到",
    "改到",
    "减少到",
    "增加到",
    "再来",
    "再要",
    "to",
];

fn gap_ok(chars: &[char], from: usize, to: usize) -> bool {
    if from > to {
        return false;
    }
    let gap: String = chars[from..to].iter().collect();
    GAP_WORDS.contains(&gap.trim())
}

/// Pairs each product mention with at most one quantity, returning for every product the index
/// of its quantity. A quantity binds to the adjacent product in the message's reading direction
/// ("两斤西红柿和一把菠菜" reads quantity first, "土豆3个胡萝卜两根" product first); bare
/// numbers only bind forwards ("3 cucumbers") or after `x` ("tomatoes x2"). A single leftover
/// quantity with a unit and a single leftover product are paired ("排骨 大概两斤").
pub fn bind(
    chars: &[char],
    products: &[ProductMention],
    quantities: &[QuantityMention],
) -> Vec<Option<usize>> {
    let mut bound: Vec<Option<usize>> = vec![None; products.len()];
    let mut used = vec![false; quantities.len()];
    let forward: Vec<Option<usize>> = quantities
        .iter()
        .map(|q| {
            products
                .iter()
                .position(|p| p.start >= q.end)
                .filter(|&pi| gap_ok(chars, q.end, products[pi].start))
        })
        .collect();
    let backward: Vec<Option<usize>> = quantities
        .iter()
        .map(|q| {
            let x_form = chars
                .get(q.start)
                .is_some_and(|c| matches!(c, 'x' | '×' | '*'));
            if q.bare && !x_form {
                return None;
            }
            products
                .iter()
                .rposition(|p| p.end <= q.start)
                .filter(|&pi| gap_ok(chars, products[pi].end, q.start))
        })
        .collect();
    let first_q = quantities.iter().filter(|q| !q.bare).map(|q| q.start).min();
    let first_p = products.first().map(|p| p.start);
    let quantity_first = match (first_q, first_p) {
        (Some(q), Some(p)) => q < p,
        _ => true,
    };
    for qi in 0..quantities.len() {
        let (pref, other) = if quantity_first {
            (forward[qi], backward[qi])
        } else {
            (backward[qi], forward[qi])
        };
        for cand in [pref, other].into_iter().flatten() {
            if bound[cand].is_none() {
                bound[cand] = Some(qi);
                used[qi] = true;
                break;
            }
        }
    }
    let free_q: Vec<usize> = (0..quantities.len())
        .filter(|&i| !used[i] && !quantities[i].bare)
        .collect();
    let free_p: Vec<usize> = (0..products.len())
        .filter(|&i| bound[i].is_none())
        .collect();
    if free_q.len() == 1 && free_p.len() == 1 && products.len() == 1 {
        bound[free_p[0]] = Some(free_q[0]);
    }
    bound
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Vec<(String, Option<f64>, Option<&'static str>)> {
        let lex = product::tests_support::lexicon();
        let chars: Vec<char> = crate::nlu::text::fold(text).chars().collect();
        let products = lex.find(&chars, &[]);
        let mut blocked = vec![false; chars.len()];
        for p in &products {
            blocked[p.start..p.end].iter_mut().for_each(|b| *b = true);
        }
        let qs = quantity::find(&chars, &blocked);
        let b = bind(&chars, &products, &qs);
        products
            .iter()
            .zip(b)
            .map(|(p, q)| {
                let q = q.map(|i| &qs[i]);
                (
                    lex.entries()[p.entry].sku.clone(),
                    q.map(|q| q.value),
                    q.and_then(|q| q.unit.map(quantity::Unit::code)),
                )
            })
            .collect()
    }

    #[test]
    fn binds_in_both_orders() {
        let s = |x: &str| x.to_string();
        assert_eq!(
            run("两斤西红柿和一把菠菜"),
            [
                (s("VEG-TOMATO"), Some(2.0), Some("jin")),
                (s("VEG-SPINACH"), Some(1.0), Some("bunch"))
            ]
        );
        assert_eq!(
            run("西红柿两斤 菠菜一把"),
            [
                (s("VEG-TOMATO"), Some(2.0), Some("jin")),
                (s("VEG-SPINACH"), Some(1.0), Some("bunch"))
            ]
        );
        assert_eq!(
            run("3 tomatoes and a bunch of spinach"),
            [
                (s("VEG-TOMATO"), Some(3.0), None),
                (s("VEG-SPINACH"), Some(1.0), Some("bunch"))
            ]
        );
        assert_eq!(run("tomatoes x2"), [(s("VEG-TOMATO"), Some(2.0), None)]);
        assert_eq!(
            run("菠菜 大概两把吧"),
            [(s("VEG-SPINACH"), Some(2.0), Some("bunch"))]
        );
        assert_eq!(run("remove the spinach"), [(s("VEG-SPINACH"), None, None)]);
        assert_eq!(
            run("菠菜改成两把 西红柿不要了"),
            [
                (s("VEG-SPINACH"), Some(2.0), Some("bunch")),
                (s("VEG-TOMATO"), None, None)
            ]
        );
        assert_eq!(
            run("change the tomatoes to 3 kg"),
            [(s("VEG-TOMATO"), Some(3.0), Some("kg"))]
        );
    }
}
