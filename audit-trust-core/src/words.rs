//! Counts in messages: "1 package", "2 packages", "1,234 records". Every count a message shows
//! goes through [`plural`], so none says "1 packages" or "record(s)".

/// A count with its noun in the right number, with thousands separators.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// An integer with thousands separators: 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{plural, thousands};

    #[test]
    fn counts_take_the_right_number() {
        assert_eq!(plural(0, "package", "packages"), "0 packages");
        assert_eq!(plural(1, "package", "packages"), "1 package");
        assert_eq!(plural(2, "entry", "entries"), "2 entries");
        assert_eq!(plural(1234, "day", "days"), "1,234 days");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
