//! What `tlog_load publish` reports about a load's timeline: the gaps between events and the
//! rate by tenth of the records.

use serde_json::{Value, json};

/// Seconds between successive events (checkpoint size changes seen by the poller, or
/// acknowledged publishes, each `(seconds since start, log size)`): median, p99, max, how
/// many were over 1 s, and the five longest with when they ended and the log size then, to
/// line them up with the database's own log (its checkpoints, say).
pub fn gaps(changes: &[(f64, u64)]) -> Value {
    let mut gaps: Vec<(f64, f64, u64)> = changes
        .windows(2)
        .map(|w| (w[1].0 - w[0].0, w[1].0, w[1].1))
        .collect();
    gaps.sort_by(|a, b| a.0.total_cmp(&b.0));
    let pick = |p: f64| {
        if gaps.is_empty() {
            0.0
        } else {
            gaps[((p * gaps.len() as f64).ceil() as usize).clamp(1, gaps.len()) - 1].0
        }
    };
    let longest: Vec<Value> = gaps
        .iter()
        .rev()
        .take(5)
        .map(|(gap, at, size)| json!({ "gap_s": gap, "ended_at_s": at, "size": size }))
        .collect();
    json!({
        "changes": changes.len(),
        "median_s": pick(0.5),
        "p99_s": pick(0.99),
        "max_s": pick(1.0),
        "over_1s": gaps.iter().filter(|g| g.0 > 1.0).count(),
        "longest": longest,
    })
}

/// The load in ten slices of records: each slice's rate and mean milliseconds per publish (the
/// server appends one publish at a time, so that is its time per publish at that log size).
pub fn tenths(acks: &[(f64, usize)], records: usize) -> Value {
    let mut out = Vec::new();
    let (mut from_t, mut from_i) = (0.0, 0);
    for tenth in 1..=10 {
        let bound = records * tenth / 10;
        let Some(i) = acks[from_i..].iter().position(|a| a.1 >= bound) else {
            break;
        };
        let i = from_i + i;
        let (t, total) = acks[i];
        let publishes = i + 1 - from_i;
        let span = t - from_t;
        out.push(json!({
            "records_up_to": total,
            "records_per_second": (total - acks.get(from_i.wrapping_sub(1)).map_or(0, |a| a.1)) as f64 / span.max(1e-9),
            "ms_per_publish": span * 1000.0 / publishes as f64,
        }));
        (from_t, from_i) = (t, i + 1);
    }
    Value::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_report_the_longest_with_when_and_at_what_size() {
        let changes = [
            (0.0, 0),
            (0.5, 10),
            (2.0, 20),
            (2.1, 30),
            (3.3, 40),
            (3.4, 50),
        ];
        let report = gaps(&changes);
        assert_eq!(report["changes"], 6);
        assert_eq!(report["over_1s"], 2);
        assert_eq!(report["max_s"], 1.5);
        let longest = report["longest"].as_array().expect("list");
        assert_eq!(longest.len(), 5);
        assert_eq!(longest[0]["gap_s"], 1.5);
        assert_eq!(longest[0]["ended_at_s"], 2.0);
        assert_eq!(longest[0]["size"], 20);
        assert_eq!(longest[1]["size"], 40);
        assert_eq!(gaps(&[])["max_s"], 0.0);
    }
}
