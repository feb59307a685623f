//! RFC 4180 CSV: [`parse`] (and [`records`], which keeps each record's line)
//! for the spreadsheet import, [`write_row`] for exports.
//!
//! Fields are separated by `,` and records by CRLF or LF (a lone CR is
//! accepted too); a quoted field may hold `,`, line breaks and `""` for a
//! quote. A UTF-8 BOM at the start is skipped and the empty text after the
//! last line break is not a record; an empty line is a record of one empty
//! field.
//!
//! The `csv` crate reads the records. It takes any text (a stray quote is
//! kept as it is, an unclosed one runs to the end), so [`records`] then
//! walks the text alongside the records it returned: each field must be
//! written there as RFC 4180 writes it, which finds malformed quoting (and
//! the line it starts on), and the empty lines `csv` skips.
//!
//! Exports are opened in spreadsheets, so [`write_row`] guards against
//! formula injection: a field starting with `=`, `+`, `-` or `@` is written
//! with a leading `'`. [`unguard`] takes it off again, so an export imports
//! back unchanged (a field that already looks guarded, `'=x`, is guarded
//! once more, so it survives the round trip too). Which fields are quoted,
//! and how, is `csv-core`'s, with two more: one that starts or ends with a
//! space, and a record's only field when it is empty.

use std::borrow::Cow;

/// A malformed CSV text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    /// The 1-based physical line where the bad record starts.
    pub line: usize,
    pub message: String,
}

/// The records of `text`, each a list of fields.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
    Ok(records(text)?.into_iter().map(|(_, r)| r).collect())
}

/// The records of `text`, each with the 1-based physical line it starts on
/// (a quoted line break makes a record span several lines).
pub fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, CsvError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut walk = Walk {
        text,
        at: bom,
        line: 1,
        out: Vec::new(),
    };
    for record in reader.records() {
        let record = record.map_err(|e| walk.error(walk.line, &e.to_string()))?;
        walk.empty_lines();
        walk.record(&record)?;
    }
    walk.empty_lines();
    if !walk.rest().is_empty() {
        return Err(walk.error(walk.line, "malformed CSV"));
    }
    Ok(walk.out)
}

/// The text read so far (`at`, on `line`) and the records found in it.
struct Walk<'a> {
    text: &'a str,
    at: usize,
    line: usize,
    out: Vec<(usize, Vec<String>)>,
}

impl Walk<'_> {
    fn error(&self, line: usize, message: &str) -> CsvError {
        CsvError {
            line,
            message: message.to_owned(),
        }
    }

    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    /// Steps over one line break (CRLF, LF or CR), if one is next.
    fn line_break(&mut self) -> bool {
        let n = match self.rest().as_bytes() {
            [b'\r', b'\n', ..] => 2,
            [b'\r' | b'\n', ..] => 1,
            _ => return false,
        };
        self.at += n;
        self.line += 1;
        true
    }

    /// The empty lines next (which `csv` skips; no record starts with a
    /// line break): each a record of one empty field.
    fn empty_lines(&mut self) {
        let mut line = self.line;
        while self.line_break() {
            self.out.push((line, vec![String::new()]));
            line = self.line;
        }
    }

    /// One record `csv` read, checked against the text: each field quoted
    /// (quotes doubled) or bare, then `,` or the end of the record.
    fn record(&mut self, fields: &::csv::StringRecord) -> Result<(), CsvError> {
        let start = self.line;
        let n = fields.len();
        let mut record = Vec::with_capacity(n);
        for (i, field) in fields.iter().enumerate() {
            if self.rest().starts_with('"') {
                let quoted = format!("\"{}\"", field.replace('"', "\"\""));
                if !self.rest().starts_with(&quoted) {
                    return Err(self.error(start, self.quoting_problem()));
                }
                self.at += quoted.len();
                self.line += field.matches('\n').count();
            } else if field.contains('"') || !self.rest().starts_with(field) {
                return Err(self.error(
                    start,
                    "a quote inside an unquoted field (quote the field and double the quote)",
                ));
            } else {
                self.at += field.len();
            }
            record.push(field.to_owned());
            let at_end = self.rest().is_empty() || self.line_break();
            let delimited = !at_end && self.rest().starts_with(',');
            if i + 1 < n && delimited {
                self.at += 1;
            } else if !(i + 1 == n && at_end) {
                return Err(self.error(start, "characters after a closing quote"));
            }
        }
        self.out.push((start, record));
        Ok(())
    }

    /// What is wrong with the quoted field that starts here.
    fn quoting_problem(&self) -> &'static str {
        let b = self.rest().as_bytes();
        let mut i = 1;
        while let Some(q) = b[i..].iter().position(|&c| c == b'"') {
            if b.get(i + q + 1) != Some(&b'"') {
                return "characters after a closing quote";
            }
            i += q + 2;
        }
        "a quoted field is not closed"
    }
}

/// Appends one record to `out`, ending it with CRLF. A field is quoted when
/// `csv-core` would quote it (it holds `,`, `"`, CR or LF), when it starts
/// or ends with a space, and when it is the record's only field and empty;
/// it is guarded with a leading `'` when a spreadsheet could take it for a
/// formula.
pub fn write_row(out: &mut String, fields: &[&str]) {
    let necessary = csv_core::WriterBuilder::new().build();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let field: Cow<str> = if looks_like_formula(f) {
            format!("'{f}").into()
        } else {
            (*f).into()
        };
        let quote = necessary.should_quote(field.as_bytes())
            || f.starts_with(' ')
            || f.ends_with(' ')
            // A lone empty field would be an empty line.
            || (fields.len() == 1 && f.is_empty());
        if quote {
            push_quoted(out, &field);
        } else {
            out.push_str(&field);
        }
    }
    out.push_str("\r\n");
}

/// `field` in quotes, its quotes doubled, as `csv-core` writes it.
fn push_quoted(out: &mut String, field: &str) {
    let mut writer = csv_core::WriterBuilder::new()
        .quote_style(csv_core::QuoteStyle::Always)
        .build();
    // At most two quotes around every byte doubled.
    let mut buf = vec![0; 2 * field.len() + 2];
    let (_, _, n) = writer.field(field.as_bytes(), &mut buf);
    let (_, m) = writer.finish(&mut buf[n..]);
    // Quotes added between UTF-8 characters: still UTF-8.
    out.push_str(&String::from_utf8_lossy(&buf[..n + m]));
}

/// A field without the formula guard [`write_row`] added: one leading `'`
/// is dropped when `=`, `+`, `-` or `@` follows it (after any more `'`s:
/// `'=x` is written `''=x`).
pub fn unguard(field: &str) -> &str {
    match field.strip_prefix('\'') {
        Some(rest) if looks_like_formula(rest) => rest,
        _ => field,
    }
}

/// `=`, `+`, `-` or `@` first, after any `'`s.
fn looks_like_formula(f: &str) -> bool {
    // A plain negative number (an ROI) stays a number.
    let number = f
        .strip_prefix('-')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
    !number && f.trim_start_matches('\'').starts_with(['=', '+', '-', '@'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_numbers_are_not_guarded() {
        let mut out = String::new();
        write_row(&mut out, &["-0.5", "-x", "'-0.5"]);
        assert_eq!(out, "-0.5,'-x,''-0.5\r\n");
        let back = parse(&out).unwrap();
        let fields: Vec<&str> = back[0].iter().map(|f| unguard(f)).collect();
        assert_eq!(fields, ["-0.5", "-x", "'-0.5"]);
    }

    /// `expected`: the records with their lines, or the error's line.
    fn check(input: &str, expected: Result<&[(usize, &[&str])], usize>) {
        let got = records(input);
        match (&got, expected) {
            (Ok(got), Ok(want)) => {
                let want: Vec<(usize, Vec<String>)> = want
                    .iter()
                    .map(|(l, r)| (*l, r.iter().map(|f| f.to_string()).collect()))
                    .collect();
                assert_eq!(*got, want, "{input:?}");
                assert_eq!(
                    parse(input).unwrap(),
                    want.into_iter().map(|(_, r)| r).collect::<Vec<_>>()
                );
            }
            (Err(e), Err(line)) => assert_eq!(e.line, line, "{input:?}: {}", e.message),
            _ => panic!("{input:?}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn parse_table() {
        check("", Ok(&[]));
        check("a,b\r\n1,2\r\n", Ok(&[(1, &["a", "b"]), (2, &["1", "2"])]));
        check("a,b\n1,2", Ok(&[(1, &["a", "b"]), (2, &["1", "2"])]));
        check("a,b\r1,2\r", Ok(&[(1, &["a", "b"]), (2, &["1", "2"])]));
        check("\u{feff}a,b\n", Ok(&[(1, &["a", "b"])]));
        check("a\n\nb\n", Ok(&[(1, &["a"]), (2, &[""]), (3, &["b"])]));
        check(",\n", Ok(&[(1, &["", ""])]));
        check("a,", Ok(&[(1, &["a", ""])]));
        check(" a , b ", Ok(&[(1, &[" a ", " b "])]));
        check("\"a,b\",c", Ok(&[(1, &["a,b", "c"])]));
        check("\"say \"\"hi\"\"\",x", Ok(&[(1, &["say \"hi\"", "x"])]));
        check("\"\",\"\"\"\"", Ok(&[(1, &["", "\""])]));
        check(
            "h\n\"one\ntwo\r\nthree\",x\nlast\n",
            Ok(&[
                (1, &["h"]),
                (2, &["one\ntwo\r\nthree", "x"]),
                (5, &["last"]),
            ]),
        );
        check("é,\"ü\nß\"\n", Ok(&[(1, &["é", "ü\nß"])]));
        // Errors name the line the bad record starts on.
        check("a\nb\n\"c\nd\n", Err(3));
        check("a\n\"x\ny\",1\nb\"c\n", Err(4));
        check("a\n\"x\"y,1\n", Err(2));
        check("\"x\" ,1", Err(1));
        check("a\n\"b\nc\"\"\n", Err(2));
    }

    fn row(fields: &[&str]) -> String {
        let mut out = String::new();
        write_row(&mut out, fields);
        out
    }

    #[test]
    fn write_quotes_and_guards() {
        assert_eq!(row(&["a", "b c", "1.5"]), "a,b c,1.5\r\n");
        assert_eq!(
            row(&["a,b", "say \"hi\""]),
            "\"a,b\",\"say \"\"hi\"\"\"\r\n"
        );
        assert_eq!(
            row(&["x\ny", " pad", "pad "]),
            "\"x\ny\",\" pad\",\"pad \"\r\n"
        );
        assert_eq!(
            row(&["=SUM(A1)", "+1", "-2", "-2+3", "@cmd"]),
            "'=SUM(A1),'+1,-2,'-2+3,'@cmd\r\n"
        );
        assert_eq!(row(&["=a,b"]), "\"'=a,b\"\r\n");
        assert_eq!(row(&["'=x", "'x", "it's"]), "''=x,'x,it's\r\n");
        assert_eq!(row(&["", ""]), ",\r\n");
        assert_eq!(row(&[""]), "\"\"\r\n");
        assert_eq!(unguard("'=x"), "=x");
        assert_eq!(unguard("''=x"), "'=x");
        assert_eq!(unguard("'''-1"), "''-1");
        assert_eq!(unguard("'x"), "'x");
        assert_eq!(unguard("''x"), "''x");
        assert_eq!(unguard("="), "=");
    }

    #[test]
    fn write_then_parse_round_trips() {
        let rows: &[&[&str]] = &[
            &["handle", "name", "tags"],
            &["sarah", "Sarah \"SJ\" J, PhD", "a;b"],
            &["=HYPERLINK(\"x\")", "-1", "@me"],
            &["'=x", " spaced ", "line\r\nbreak"],
            &["''+1", "'", "'@"],
            &[""],
            &["", "", ""],
            &["é", "'", "+"],
        ];
        let mut out = String::new();
        for r in rows {
            write_row(&mut out, r);
        }
        let back = parse(&out).unwrap();
        let unguarded: Vec<Vec<&str>> = back
            .iter()
            .map(|r| r.iter().map(|f| unguard(f)).collect())
            .collect();
        assert_eq!(unguarded, rows);
    }
}
