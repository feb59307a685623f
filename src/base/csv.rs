//! RFC 4180 CSV: [`parse`] (and [`records`], which keeps each record's line)
//! for the spreadsheet import, [`write_row`] for exports.
//!
//! Fields are separated by `,` and records by CRLF or LF (a lone CR is
//! accepted too); a quoted field may hold `,`, line breaks and `""` for a
//! quote. A UTF-8 BOM at the start is skipped and the empty text after the
//! last line break is not a record.
//!
//! Exports are opened in spreadsheets, so [`write_row`] guards against
//! formula injection: a field starting with `=`, `+`, `-` or `@` is written
//! with a leading `'`. [`unguard`] takes it off again, so an export imports
//! back unchanged (a field that already looks guarded, `'=x`, is guarded
//! once more, so it survives the round trip too).

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
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Every index below stops at an ASCII byte, so it is a char boundary.
    let b = text.as_bytes();
    let (mut i, mut line) = (0, 1);
    let mut out = Vec::new();
    while i < b.len() {
        let start = line;
        let err = |message: &str| CsvError {
            line: start,
            message: message.to_owned(),
        };
        let mut fields = Vec::new();
        loop {
            let mut field = String::new();
            if b.get(i) == Some(&b'"') {
                i += 1;
                loop {
                    let Some(q) = text[i..].find('"') else {
                        return Err(err("a quoted field is not closed"));
                    };
                    let chunk = &text[i..i + q];
                    line += chunk.matches('\n').count();
                    field.push_str(chunk);
                    i += q + 1;
                    if b.get(i) != Some(&b'"') {
                        break;
                    }
                    field.push('"');
                    i += 1;
                }
                if !matches!(b.get(i), None | Some(b',' | b'\r' | b'\n')) {
                    return Err(err("characters after a closing quote"));
                }
            } else {
                let end = b[i..]
                    .iter()
                    .position(|c| matches!(c, b',' | b'\r' | b'\n' | b'"'))
                    .map_or(b.len(), |p| i + p);
                if b.get(end) == Some(&b'"') {
                    return Err(err(
                        "a quote inside an unquoted field (quote the field and double the quote)",
                    ));
                }
                field.push_str(&text[i..end]);
                i = end;
            }
            fields.push(field);
            match b.get(i) {
                Some(b',') => i += 1,
                None => break,
                Some(c) => {
                    i += if *c == b'\r' && b.get(i + 1) == Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                    line += 1;
                    break;
                }
            }
        }
        out.push((start, fields));
    }
    Ok(out)
}

/// Appends one record to `out`, ending it with CRLF. A field is quoted when
/// it holds `,`, `"`, CR or LF or starts or ends with a space, and guarded
/// with a leading `'` when a spreadsheet could take it for a formula.
pub fn write_row(out: &mut String, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let quote = f.contains([',', '"', '\r', '\n'])
            || f.starts_with(' ')
            || f.ends_with(' ')
            // A lone empty field would be an empty line.
            || (fields.len() == 1 && f.is_empty());
        if quote {
            out.push('"');
        }
        if looks_like_formula(f) {
            out.push('\'');
        }
        if quote {
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push_str("\r\n");
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
