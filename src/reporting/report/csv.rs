//! A report's rows as RFC 4180 CSV, with a header row and CRLF line ends.

use super::build::Report;
use serde_json::{json, Value};

/// One CSV field, quoted when it must be (RFC 4180).
fn csv_field(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The rows as RFC 4180 CSV with a header row and CRLF line ends.
pub fn to_csv(r: &Report) -> String {
    let mut out = String::new();
    out.push_str(
        &r.columns
            .iter()
            .map(|c| csv_field(&json!(c)))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str("\r\n");
    for row in &r.rows {
        let line: Vec<String> = r
            .columns
            .iter()
            .map(|c| csv_field(row.get(c).unwrap_or(&Value::Null)))
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reporting::report::aggregates::{ClickAgg, Inputs, Key};
    use crate::reporting::report::build::build;
    use crate::reporting::report::build::tests::usd;
    use crate::reporting::report::dim::tests::TODAY;
    use crate::reporting::report::params::ReportParams;

    #[test]
    fn csv_quotes_and_header() {
        let key: Key = vec![Some("a,\"b\"".into())];
        let mut inputs = Inputs::default();
        inputs.clicks.insert(
            key,
            ClickAgg {
                clicks: 1,
                unique_clicks: 1,
                bot_clicks: 0,
            },
        );
        let p = ReportParams::from_query("group_by=content", TODAY).unwrap();
        let csv = to_csv(&build(&p, &inputs, usd()));
        let mut lines = csv.split("\r\n");
        assert!(lines.next().unwrap().starts_with("content,"));
        assert!(lines.next().unwrap().starts_with("\"a,\"\"b\"\"\",1,1,0,"));
    }
}
