//! QR codes for short links, as SVG or PNG, pure.
//!
//! [`scan_url`] is what a code encodes: the short URL with `qr=1` appended,
//! so a scan arrives as an ordinary visit that says it came from a QR code.
//! [`QrOptions`] are read from the request's query (`size`, `margin`,
//! `ecc`). The modules come from `qrcodegen` (Nayuki's encoder, which may
//! raise the error correction level when that costs no extra modules). The
//! text is always encoded in byte mode: a URL (`https://` is lower case)
//! never qualifies for the numeric or alphanumeric modes anyway, and leaving
//! out their segmenting code saves about 5 KB of gzipped wasm (measured in
//! a stand-alone wasm32 build).
//!
//! * [`svg`]: one black path over a white square; the `viewBox` counts
//!   modules, `width`/`height` are `size`, so it scales without blur.
//! * [`png`]: a whole number of pixels per module, 1-bit greyscale,
//!   written by the `png` crate (deflate at its `High` level, no row
//!   filters): a default 512 px code is about 600 bytes, a 2048 px one
//!   about 3 KB (written stored, they were 30 KB and 520 KB).

use crate::base::error::{ApiError, ParseError};
use qrcodegen::{QrCode, QrCodeEcc};
use url::form_urlencoded;

pub const DEFAULT_SIZE: u32 = 512;
pub const MIN_SIZE: u32 = 64;
pub const MAX_SIZE: u32 = 2048;
pub const DEFAULT_MARGIN: u32 = 4;
pub const MAX_MARGIN: u32 = 16;

/// Error correction level: about 7, 15, 25 or 30 % of the code may be lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecc {
    L,
    M,
    Q,
    H,
}

impl Ecc {
    /// `L`, `M`, `Q` or `H`, in either case.
    pub fn parse(s: &str) -> Result<Ecc, ParseError> {
        match s.to_ascii_uppercase().as_str() {
            "L" => Ok(Ecc::L),
            "M" => Ok(Ecc::M),
            "Q" => Ok(Ecc::Q),
            "H" => Ok(Ecc::H),
            _ => Err(ParseError::new("invalid_value", "ecc must be L, M, Q or H")),
        }
    }
}

/// How a code is drawn. `size` is in pixels, `margin` (the quiet zone) in
/// modules. [`QrOptions::from_query`] keeps both within their bounds; the
/// renderers trust them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QrOptions {
    pub size: u32,
    pub margin: u32,
    pub ecc: Ecc,
}

impl Default for QrOptions {
    fn default() -> Self {
        QrOptions {
            size: DEFAULT_SIZE,
            margin: DEFAULT_MARGIN,
            ecc: Ecc::M,
        }
    }
}

impl QrOptions {
    /// Reads `size` (64..=2048 px), `margin` (0..=16 modules) and `ecc` from
    /// a raw query string; other parameters (such as `qr`) are left to the
    /// caller, and a repeated one takes its last value.
    pub fn from_query(query: &str) -> Result<QrOptions, ApiError> {
        let mut o = QrOptions::default();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "size" => o.size = number(&v, MIN_SIZE, MAX_SIZE, "size", "pixels")?,
                "margin" => o.margin = number(&v, 0, MAX_MARGIN, "margin", "modules")?,
                "ecc" => o.ecc = Ecc::parse(&v).map_err(|e| e.at("ecc"))?,
                _ => {}
            }
        }
        Ok(o)
    }
}

fn number(v: &str, min: u32, max: u32, field: &str, unit: &str) -> Result<u32, ApiError> {
    v.parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            let msg = format!("{field} must be a whole number of {unit} from {min} to {max}");
            ParseError::new("invalid_value", msg).at(field)
        })
}

/// The URL a code for `short_url` encodes: `qr=1` appended to its query
/// (before any fragment).
pub fn scan_url(short_url: &str) -> String {
    let (base, frag) = short_url.split_at(short_url.find('#').unwrap_or(short_url.len()));
    let sep = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with(['?', '&']) => "",
        Some(_) => "&",
    };
    format!("{base}{sep}qr=1{frag}")
}

fn encode(text: &str, ecc: Ecc) -> Result<QrCode, ParseError> {
    let ecc = match ecc {
        Ecc::L => QrCodeEcc::Low,
        Ecc::M => QrCodeEcc::Medium,
        Ecc::Q => QrCodeEcc::Quartile,
        Ecc::H => QrCodeEcc::High,
    };
    QrCode::encode_binary(text.as_bytes(), ecc)
        .map_err(|_| ParseError::new("too_long", "the text does not fit in a QR code at this ecc"))
}

/// The code as a standalone SVG document, `size` px square.
pub fn svg(text: &str, opts: &QrOptions) -> Result<String, ParseError> {
    let qr = encode(text, opts.ecc)?;
    let (n, m) = (qr.size(), opts.margin as i32);
    let side = n + 2 * m;
    let size = opts.size;
    let mut d = String::new();
    for y in 0..n {
        let mut x = 0;
        while x < n {
            if !qr.get_module(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < n && qr.get_module(x, y) {
                x += 1;
            }
            let w = x - start;
            d += &format!("M{},{}h{w}v1h-{w}z", start + m, y + m);
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         width=\"{size}\" height=\"{size}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
         <path d=\"{d}\" fill=\"#000\"/></svg>"
    ))
}

/// The code as a 1-bit greyscale PNG. Each module is `scale` pixels square,
/// `scale` the largest whole number with `(modules + 2 * margin) * scale <=
/// size`, so the image is at most `size` px (less when `size` is not a
/// multiple) — unless the code has more modules than `size` pixels, when
/// it is drawn at 1 px per module.
pub fn png(text: &str, opts: &QrOptions) -> Result<Vec<u8>, ParseError> {
    let qr = encode(text, opts.ecc)?;
    let side = qr.size() as u32 + 2 * opts.margin;
    let scale = (opts.size / side).max(1);
    let dim = side * scale;
    // Rows of bits, 1 = white, first pixel high.
    let row = (dim as usize).div_ceil(8);
    let mut raw = Vec::with_capacity(row * dim as usize);
    for y in 0..dim {
        let my = (y / scale) as i32 - opts.margin as i32;
        let start = raw.len();
        raw.resize(start + row, 0xff);
        for x in 0..dim {
            // get_module is false outside the code: the margin is white.
            if qr.get_module((x / scale) as i32 - opts.margin as i32, my) {
                raw[start + x as usize / 8] &= !(0x80 >> (x % 8));
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, dim, dim);
    encoder.set_color(::png::ColorType::Grayscale);
    encoder.set_depth(::png::BitDepth::One);
    encoder.set_compression(::png::Compression::High);
    // Rows of a scaled code repeat whole: deflate finds them unfiltered.
    encoder.set_filter(::png::Filter::NoFilter);
    encoder
        .write_header()
        .and_then(|mut w| {
            w.write_image_data(&raw)?;
            w.finish()
        })
        // Not for a code QrOptions allows: it writes to memory.
        .map_err(|e| ParseError::new("png_failed", format!("the PNG was not written: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "https://go.brand.com/sarah-serum?qr=1";

    #[test]
    fn options_from_query() {
        fn check(query: &str, expected: Result<(u32, u32, Ecc), (&str, &str)>) {
            let got = QrOptions::from_query(query)
                .map(|o| (o.size, o.margin, o.ecc))
                .map_err(|e| (e.code(), e.field().unwrap_or("").to_owned()));
            let expected = expected.map_err(|(c, f)| (c, f.to_owned()));
            assert_eq!(got, expected, "{query}");
        }
        check("", Ok((512, 4, Ecc::M)));
        check("qr=1&utm_source=x", Ok((512, 4, Ecc::M)));
        check("size=64&margin=0&ecc=L", Ok((64, 0, Ecc::L)));
        check("size=2048&margin=16&ecc=h", Ok((2048, 16, Ecc::H)));
        check("ecc=q", Ok((512, 4, Ecc::Q)));
        check("size=100&size=300", Ok((300, 4, Ecc::M)));
        check("size=%35%31%32", Ok((512, 4, Ecc::M)));
        for bad in [
            "63",
            "2049",
            "0",
            "-1",
            "abc",
            "",
            "512px",
            "1e3",
            " 512",
            "99999999999",
        ] {
            check(&format!("size={bad}"), Err(("invalid_value", "size")));
        }
        for bad in ["17", "-1", "x", "", "4.0"] {
            check(&format!("margin={bad}"), Err(("invalid_value", "margin")));
        }
        for bad in ["", "X", "low", "MM", "l "] {
            check(&format!("ecc={bad}"), Err(("invalid_value", "ecc")));
        }
        // Each field is named, whichever comes first.
        check("ecc=H&margin=99&size=512", Err(("invalid_value", "margin")));
        assert_eq!(QrOptions::default(), QrOptions::from_query("").unwrap());
    }

    #[test]
    fn scan_urls() {
        fn check(short: &str, expected: &str) {
            assert_eq!(scan_url(short), expected, "{short}");
        }
        check("https://go.brand.com/sarah-serum", LINK);
        check(
            "https://go.brand.com/s?a=1",
            "https://go.brand.com/s?a=1&qr=1",
        );
        check("https://go.brand.com/s?", "https://go.brand.com/s?qr=1");
        check(
            "https://go.brand.com/s?a=1&",
            "https://go.brand.com/s?a=1&qr=1",
        );
        check(
            "https://go.brand.com/s#top",
            "https://go.brand.com/s?qr=1#top",
        );
        check(
            "https://go.brand.com/s?a#b?c",
            "https://go.brand.com/s?a&qr=1#b?c",
        );
    }

    /// The checksums [`read_png`] checks with: PNG's CRC-32 and zlib's
    /// Adler-32.
    #[test]
    fn checksums() {
        let crc32 = crc32fast::hash;
        let adler32 = adler2::adler32_slice;
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        assert_eq!(adler32(b""), 1);
        // Long enough for both sums to wrap (zlib.adler32 in Python agrees).
        assert_eq!(adler32(&[0xff; 100_000]), 0x149a_302c);
    }

    /// A PNG read back strictly: signature, chunk CRCs, IHDR fields, the
    /// zlib stream (inflated by miniz_oxide, which checks its header and
    /// Adler-32), filter bytes. Returns (dim, 0/255 pixels).
    fn read_png(png: &[u8]) -> (usize, Vec<u8>) {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let (mut pos, mut chunks, mut idat) = (8, Vec::new(), Vec::new());
        while pos < png.len() {
            let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
            let body = &png[pos + 4..pos + 8 + len];
            let crc = u32::from_be_bytes(png[pos + 8 + len..pos + 12 + len].try_into().unwrap());
            assert_eq!(crc32fast::hash(body), crc, "CRC of {:?}", &body[..4]);
            chunks.push(body[..4].to_vec());
            if &body[..4] == b"IDAT" {
                idat.extend(&body[4..]);
            }
            if &body[..4] == b"IHDR" {
                assert_eq!(len, 13);
                assert_eq!(body[4..8], body[8..12], "square");
                assert_eq!(&body[12..], [1, 0, 0, 0, 0], "1-bit grey, no interlace");
            }
            pos += 12 + len;
        }
        assert_eq!(
            chunks,
            [b"IHDR".to_vec(), b"IDAT".to_vec(), b"IEND".to_vec()]
        );
        let dim = u32::from_be_bytes(png[16..20].try_into().unwrap()) as usize;
        // zlib: a header for deflate with a 32 KiB window and no
        // dictionary, then deflate and the Adler-32 of the raw rows.
        assert_eq!(idat[0], 0x78);
        assert_eq!(u16::from_be_bytes([idat[0], idat[1]]) % 31, 0);
        assert_eq!(idat[1] & 0x20, 0, "no preset dictionary");
        let raw = miniz_oxide::inflate::decompress_to_vec_zlib(&idat).expect("zlib inflates");
        let row = dim.div_ceil(8);
        assert_eq!(raw.len(), (row + 1) * dim);
        let mut px = Vec::with_capacity(dim * dim);
        for r in raw.chunks(row + 1) {
            assert_eq!(r[0], 0, "filter none");
            px.extend((0..dim).map(|x| {
                if r[1 + x / 8] & (0x80 >> (x % 8)) == 0 {
                    0
                } else {
                    255
                }
            }));
        }
        (dim, px)
    }

    /// Decodes the one QR code in a greyscale image with rqrr. A white
    /// border is added, so margin 0 decodes too.
    fn decode(dim: usize, px: &[u8]) -> String {
        let pad = 8;
        let mut img =
            rqrr::PreparedImage::prepare_from_greyscale(dim + 2 * pad, dim + 2 * pad, |x, y| {
                let (x, y) = (x.wrapping_sub(pad), y.wrapping_sub(pad));
                if x < dim && y < dim {
                    px[y * dim + x]
                } else {
                    255
                }
            });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one code found");
        grids[0].decode().expect("decodes").1
    }

    /// Rasterises the SVG this module writes at `k` px per module: checks
    /// its attributes and parses its path format back.
    fn rasterise_svg(svg: &str, opts: &QrOptions, k: usize) -> (usize, Vec<u8>) {
        let attr = |name: &str| {
            let at = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            &svg[at..at + svg[at..].find('"').unwrap()]
        };
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(attr("width"), opts.size.to_string());
        assert_eq!(attr("height"), opts.size.to_string());
        assert_eq!(attr("shape-rendering"), "crispEdges");
        let vb: Vec<usize> = attr("viewBox")
            .split(' ')
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!((vb[0], vb[1], vb[2]), (0, 0, vb[3]));
        let side = vb[2];
        assert!(svg.contains(&format!(
            "<rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>"
        )));
        let dim = side * k;
        let mut px = vec![255u8; dim * dim];
        for run in attr("d").split_terminator('z') {
            let (xy, w) = run.strip_prefix('M').unwrap().split_once('h').unwrap();
            let (w, back) = w.split_once("v1h-").unwrap();
            assert_eq!(w, back);
            let (x, y) = xy.split_once(',').unwrap();
            let (x, y, w): (usize, usize, usize) =
                (x.parse().unwrap(), y.parse().unwrap(), w.parse().unwrap());
            assert!(x + w <= side - opts.margin as usize && y < side - opts.margin as usize);
            assert!(x >= opts.margin as usize && y >= opts.margin as usize);
            for py in y * k..(y + 1) * k {
                px[py * dim + x * k..py * dim + (x + w) * k].fill(0);
            }
        }
        (dim, px)
    }

    #[test]
    fn round_trips_through_a_decoder() {
        let long = format!("https://go.brand.com/{}?qr=1", "a-long-slug".repeat(40));
        let cases: &[(&str, &str)] = &[
            (LINK, ""),
            (LINK, "ecc=L&margin=0&size=64"),
            (LINK, "ecc=H&margin=16&size=2048"),
            ("https://go.brand.com/x?qr=1", "ecc=Q&margin=1&size=333"),
            ("0123456789", "ecc=h"),
            ("HTTPS://GO.BRAND.COM/ABC", "size=100"),
            ("https://go.brand.com/café?qr=1", ""),
            (&long, "ecc=L&size=1024"),
        ];
        for &(text, query) in cases {
            let opts = QrOptions::from_query(query).unwrap();
            let png = png(text, &opts).unwrap();
            let (dim, px) = read_png(&png);
            assert_eq!(decode(dim, &px), text, "png {query}");

            let svg = svg(text, &opts).unwrap();
            let (sdim, spx) = rasterise_svg(&svg, &opts, 3);
            assert_eq!(decode(sdim, &spx), text, "svg {query}");

            // Both draw the same modules: the PNG's pixel at each module's
            // centre is the SVG's.
            let side = sdim / 3;
            let scale = dim / side;
            assert_eq!(dim, side * scale);
            for my in 0..side {
                for mx in 0..side {
                    let p = px[(my * scale + scale / 2) * dim + mx * scale + scale / 2];
                    assert_eq!(
                        p,
                        spx[(my * 3 + 1) * sdim + mx * 3 + 1],
                        "{query} ({mx},{my})"
                    );
                }
            }
        }
    }

    #[test]
    fn png_is_the_largest_whole_scale_within_size() {
        fn check(text: &str, query: &str, expected_dim: usize) {
            let (dim, _) = read_png(&png(text, &QrOptions::from_query(query).unwrap()).unwrap());
            assert_eq!(dim, expected_dim, "{query}");
        }
        // Version 3 (29 modules) for LINK at M: 29 + 8 = 37 modules wide.
        check(LINK, "", 37 * 13);
        check(LINK, "size=74", 74);
        check(LINK, "size=73", 37);
        check(LINK, "size=64", 37);
        check(LINK, "size=64&margin=16", 61);
        // Version 40 (177 modules) is drawn at 1 px per module even when
        // `size` is smaller.
        check(&"x".repeat(2953), "ecc=L&size=64&margin=0", 177);
    }

    #[test]
    fn too_long_for_a_code() {
        let text = "x".repeat(2954);
        let opts = QrOptions::default();
        for ecc in [Ecc::L, Ecc::H] {
            let opts = QrOptions { ecc, ..opts };
            assert_eq!(svg(&text, &opts).unwrap_err().code, "too_long");
            assert_eq!(png(&text, &opts).unwrap_err().code, "too_long");
        }
        let fits = "x".repeat(1273);
        let h = QrOptions {
            ecc: Ecc::H,
            ..opts
        };
        assert!(svg(&fits, &h).is_ok());
        assert_eq!(svg(&"x".repeat(1274), &h).unwrap_err().code, "too_long");
    }

    /// Writes /tmp/qr_sample.{png,svg} for `node tests/qr_decode.mjs`:
    /// `cargo test qr::tests::samples -- --ignored`.
    #[test]
    #[ignore = "writes /tmp/qr_sample.png and /tmp/qr_sample.svg"]
    fn samples() {
        let opts = QrOptions::default();
        std::fs::write("/tmp/qr_sample.png", png(LINK, &opts).unwrap()).unwrap();
        std::fs::write("/tmp/qr_sample.svg", svg(LINK, &opts).unwrap()).unwrap();
    }
}
