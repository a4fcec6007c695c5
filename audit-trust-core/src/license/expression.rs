//! The `license` value as SPDX: parsed strictly first, then the lenient way crates.io has always
//! accepted (`MIT/Apache-2.0`, `Apache-2.0/MIT`, imprecise names such as `Apache 2.0`, `GPL-2.0+`).
//! A value that only the lenient reading accepts gets a note saying how it was read.

use serde::{Deserialize, Serialize};
use spdx::{Expression, ParseMode};

/// A declared `license` value, read as SPDX.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredExpression {
    /// The canonical expression (`MIT OR Apache-2.0`), when it parsed.
    pub parsed: Option<String>,
    /// The licenses it names (exceptions and operators left out), sorted, distinct.
    pub licenses: Vec<String>,
    /// Why it did not parse, or how a non-standard form was read.
    pub note: Option<String>,
}

/// Parses a `license` value. Never fails: a value that is not SPDX even leniently has
/// `parsed: None` and a note saying why.
pub fn parse_declared(raw: &str) -> DeclaredExpression {
    let strict = Expression::parse_mode(raw, ParseMode::STRICT);
    let (expression, note) = match strict {
        Ok(expression) => (Ok(expression), None),
        Err(_) => match Expression::parse_mode(raw, ParseMode::LAX) {
            Ok(expression) => {
                let note = format!("not standard SPDX; read as `{}`", canonical(&expression));
                (Ok(expression), Some(note))
            }
            Err(error) => (Err(error), None),
        },
    };
    match expression {
        Ok(expression) => {
            let mut licenses: Vec<String> = expression
                .requirements()
                .map(|req| req.req.license.to_string())
                .collect();
            licenses.sort();
            licenses.dedup();
            DeclaredExpression {
                parsed: Some(canonical(&expression)),
                licenses,
                note,
            }
        }
        Err(error) => DeclaredExpression {
            parsed: None,
            licenses: Vec::new(),
            note: Some(error.reason.to_string()),
        },
    }
}

/// The expression as text with standard operators and identifiers.
fn canonical(expression: &Expression) -> String {
    // spdx keeps the original text; rebuilding from the parsed nodes gives the canonical form.
    let mut stack: Vec<(String, u8)> = Vec::new();
    for node in expression.iter() {
        match node {
            spdx::expression::ExprNode::Req(req) => stack.push((req.req.to_string(), 3)),
            spdx::expression::ExprNode::Op(op) => {
                let (prec, word) = match op {
                    spdx::expression::Operator::And => (2, "AND"),
                    spdx::expression::Operator::Or => (1, "OR"),
                };
                let (Some((right, rp)), Some((left, lp))) = (stack.pop(), stack.pop()) else {
                    return expression.to_string();
                };
                let wrap = |s: String, p: u8| if p < prec { format!("({s})") } else { s };
                stack.push((
                    format!("{} {word} {}", wrap(left, lp), wrap(right, rp)),
                    prec,
                ));
            }
        }
    }
    match stack.pop() {
        Some((text, _)) if stack.is_empty() => text,
        _ => expression.to_string(),
    }
}

/// Parses a canonical expression stored by [`parse_declared`] again for evaluation.
pub fn reparse(canonical: &str) -> Option<Expression> {
    Expression::parse_mode(canonical, ParseMode::LAX).ok()
}
