//! The file: [`parse_rows`] reads the header and at most [`MAX_ROWS`]
//! records, validates each row and then the rows together, and reports
//! every error it finds.

use super::cells::{Cells, ImportRow};
use super::columns::columns;
use super::cross_check::cross_check;
use super::row_error::{Errors, RowError, MAX_ERRORS};
use crate::base::csv;
use crate::base::money::Currency;

/// The most data rows one file may have.
pub const MAX_ROWS: usize = 5_000;

/// Reads and validates a file: a header row, then at most [`MAX_ROWS`]
/// rows. Amounts are in `currency`.
pub fn parse_rows(csv_text: &str, currency: Currency) -> Result<Vec<ImportRow>, Vec<RowError>> {
    let mut errors = Errors::default();
    let records = match csv::records(csv_text) {
        Ok(r) => r,
        Err(e) => {
            errors.add(e.line, "", "invalid_csv", e.message);
            return errors.finish(Vec::new());
        }
    };
    let mut records = records
        .into_iter()
        .filter(|(_, r)| r.iter().any(|f| !f.trim().is_empty()));
    let (header_line, header) = records.next().unwrap_or((1, Vec::new()));
    let cols = columns(&header, header_line, &mut errors);
    let data: Vec<_> = records.collect();
    if let Some((line, _)) = data.get(MAX_ROWS) {
        errors.add(
            *line,
            "",
            "too_many_rows",
            format!("at most {MAX_ROWS} rows per file"),
        );
    }
    if !errors.0.is_empty() {
        return errors.finish(Vec::new());
    }
    let mut rows = Vec::with_capacity(data.len());
    for (line, record) in &data {
        if errors.0.len() >= MAX_ERRORS {
            break;
        }
        if record.len() != header.len() {
            let msg = format!("{} fields; the header has {}", record.len(), header.len());
            errors.add(*line, "", "field_count", msg);
            continue;
        }
        let before = errors.0.len();
        let mut cells = Cells {
            cols: &cols,
            record,
            line: *line,
            errors: &mut errors,
        };
        let row = cells.row(currency);
        if errors.0.len() == before {
            rows.extend(row);
        }
    }
    cross_check(&rows, &mut errors);
    errors.finish(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::import::harness::{check, summary, usd};
    use crate::roster::import::Snapshot;

    #[test]
    fn errors_name_line_and_column() {
        let none = &Snapshot::default();
        let ok = |n| Ok(summary([[1, 0, 0], [1, 0, 0], [0, 0, 0], [n, 0, 0]]));
        // A quoted line break in line 3 moves the bad destination to line 7.
        let text = "handle,campaign,destination,tags\n\
                    sarah,glow,https://shop.example/1,a\n\
                    sarah,glow,https://shop.example/2,\"multi\nline\"\n\
                    sarah,glow,https://shop.example/3,\n\
                    \n\
                    sarah,glow,shop.example/4,\n\
                    sarah,glow,https://shop.example/5,\n";
        check(text, none, Err(&[(7, "destination", "relative_url")]));
        check(
            &text.replace("shop.example/4", "https://shop.example/4"),
            none,
            ok(5),
        );
        let h = "handle,campaign,destination,follower_count";
        check(
            &format!("{h}\nsarah,glow,https://s.example/,10k\n"),
            none,
            Err(&[(2, "follower_count", "invalid_value")]),
        );
        check(
            &format!("{h}\nsarah,glow,https://s.example/,-1\n"),
            none,
            Err(&[(2, "follower_count", "invalid_value")]),
        );
        check(
            &format!("{h}\nsarah,glow,https://s.example/,10000000001\n"),
            none,
            Err(&[(2, "follower_count", "invalid_value")]),
        );
        check(
            &format!("\u{feff}{h}\r\nsarah,glow,https://s.example/,10000000000\r\n"),
            none,
            ok(1),
        );
        check(
            "handle,campaign,destination,colour\n",
            none,
            Err(&[(1, "colour", "unknown_column")]),
        );
        check("Handle, CAMPAIGN ,destination,clicks,roi,short_url,tier\nsarah,glow,https://s.example/,1,-2,x,mega\n", none, ok(1));
        check(
            "handle,campaign\n",
            none,
            Err(&[(1, "destination", "missing_column")]),
        );
        check(
            "",
            none,
            Err(&[
                (1, "handle", "missing_column"),
                (1, "campaign", "missing_column"),
                (1, "destination", "missing_column"),
            ]),
        );
        check(
            "handle,campaign,destination,Handle\n",
            none,
            Err(&[(1, "handle", "duplicate_column")]),
        );
        check(
            "handle,campaign,destination\n",
            none,
            Ok(summary([[0; 3]; 4])),
        );
        // Several errors in one file, in line order.
        check(
            "handle,campaign,destination,base_fee,revenue_share_pct,contract_start,contract_end,format,code,slug\n\
             ,glow,https://s.example/,1.234,101,2026-12-01,2026-11-01,tiktok,x,api\n\
             sarah,glow,https://s.example/\n\
             sarah,glow,ftp://s.example/,-5,,,,,,\n",
            none,
            Err(&[
                (2, "handle", "required"),
                (2, "base_fee", "too_precise"),
                (2, "revenue_share_pct", "invalid_value"),
                (2, "contract_end", "invalid_range"),
                (2, "slug", "reserved"),
                (2, "format", "invalid_value"),
                (2, "code", "too_short"),
                (3, "", "field_count"),
                (4, "base_fee", "negative"),
                (4, "destination", "unsupported_scheme"),
            ]),
        );
        check(
            "handle,campaign,destination\n\"sarah,glow\n",
            none,
            Err(&[(2, "", "invalid_csv")]),
        );
        check(
            "handle,campaign,destination\nsa\"rah,glow,https://s.example/\n",
            none,
            Err(&[(2, "", "invalid_csv")]),
        );
        // Across rows: a profile that differs, a slug twice, a link without
        // slug twice, a code of two influencers.
        check(
            "handle,name,campaign,destination,slug,code\n\
             sarah,Sarah,glow,https://s.example/,a1,SARAH1\n\
             @Sarah,Sarah,glow,https://s.example/,,sarah1\n\
             sarah,Sara,glow,https://s.example/,,\n\
             sarah,,glow,https://s.example/x,a1,\n\
             mia,,glow,https://s.example/,,SARAH1\n",
            none,
            Err(&[
                (4, "name", "conflict"),
                (4, "destination", "duplicate_link"),
                (5, "name", "conflict"),
                (5, "slug", "duplicate_slug"),
                (6, "code", "conflict"),
            ]),
        );
        // At most 100 errors.
        let mut many = String::from("handle,campaign,destination\n");
        for _ in 0..150 {
            many.push_str("sarah,glow,nope\n");
        }
        let e = parse_rows(&many, usd()).unwrap_err();
        assert_eq!((e.len(), e[99].line), (MAX_ERRORS, 101));
    }

    #[test]
    fn at_most_5000_rows() {
        let none = &Snapshot::default();
        let rows = |n: usize| {
            let mut s = String::from("handle,campaign,destination\n");
            for i in 0..n {
                s.push_str(&format!("inf{},camp,https://shop.example/{i}\n", i % 50));
            }
            s
        };
        check(
            &rows(5_000),
            none,
            Ok(summary([[50, 0, 0], [1, 0, 0], [0, 0, 0], [5_000, 0, 0]])),
        );
        check(&rows(5_001), none, Err(&[(5_002, "", "too_many_rows")]));
    }
}
