//! The HTTP client and helpers the end-to-end tests share.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, Vec<String>>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// Asserts the `{"error":{"code","message","field"}}` shape.
    pub fn assert_error(&self, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(self.status, status, "body: {}", self.body);
        let v = self.json();
        assert_eq!(v["error"]["code"], code, "body: {}", self.body);
        assert_eq!(v["error"]["field"].as_str(), field, "body: {}", self.body);
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "body: {}",
            self.body
        );
    }
}

pub fn base() -> String {
    std::env::var("LINKCREDIT_BASE_URL").expect("LINKCREDIT_BASE_URL is set by scripts/e2e.sh")
}

pub fn admin_token() -> String {
    std::env::var("LINKCREDIT_ADMIN_TOKEN").unwrap_or_else(|_| "dev-admin-token".into())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Sends one request (`headers` are added as given), retrying a 503 like a
/// well-behaved client: the API answers 503 only when storage is
/// momentarily unavailable (locally, when a test reads the D1 file directly
/// while the worker writes), and nothing of such a request was stored.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
    request_bytes(method, path, headers, body.map(str::as_bytes))
}

/// [`request`] with a body of raw bytes (which need not be UTF-8).
pub fn request_bytes(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Resp {
    let mut attempt = 0;
    loop {
        let r = request_once(method, path, headers, body);
        attempt += 1;
        if r.status != 503 || attempt >= 6 {
            return r;
        }
        std::thread::sleep(Duration::from_millis(100 * attempt));
    }
}

/// Sends one request, once (no retry of a 503).
pub fn request_once(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Resp {
    let url = format!("{}{}", base(), path);
    let mut builder = ureq::http::Request::builder().method(method).uri(&url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let agent = agent();
    let result = match body {
        Some(b) => agent.run(builder.body(b.to_vec()).unwrap()),
        None => agent.run(builder.body(()).unwrap()),
    };
    let mut resp = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let mut headers: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in resp.headers() {
        headers
            .entry(k.as_str().to_ascii_lowercase())
            .or_default()
            .push(v.to_str().unwrap_or("").to_owned());
    }
    let status = resp.status().as_u16();
    let body = if method == "HEAD" {
        String::new()
    } else {
        resp.body_mut().read_to_string().unwrap_or_default()
    };
    Resp {
        status,
        headers,
        body,
    }
}

pub fn get(path: &str, headers: &[(&str, &str)]) -> Resp {
    request("GET", path, headers, None)
}

/// An admin call with a JSON body (or none).
pub fn admin(method: &str, path: &str, body: Option<Value>) -> Resp {
    let auth = format!("Bearer {}", admin_token());
    let body = body.map(|b| b.to_string());
    let mut headers = vec![("Authorization", auth.as_str())];
    if body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    request(method, path, &headers, body.as_deref())
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{:x}",
        N.fetch_add(1, Ordering::Relaxed),
        nanos % 0xfffff
    )
}

/// A fresh influencer and campaign; returns `(handle, campaign)`.
pub fn roster() -> (String, String) {
    let handle = unique("inf");
    let campaign = unique("camp");
    let r = admin(
        "POST",
        "/api/v1/influencers",
        Some(json!({"handle": handle, "name": "Test Person", "platform": "instagram"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = admin(
        "POST",
        "/api/v1/campaigns",
        Some(json!({"slug": campaign, "name": "Test Campaign"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    (handle, campaign)
}

/// Creates a link to `destination` for a fresh roster; returns the response JSON.
pub fn link_to(destination: &str, extra: Value) -> Value {
    let (handle, campaign) = roster();
    let mut body = json!({"destination": destination, "influencer": handle, "campaign": campaign});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = admin("POST", "/api/v1/links", Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

/// The `lc_cid` that a redirect appended to `tracking_url`, after checking
/// that the Location is exactly the tracking URL plus that click id.
pub fn click_id_of(location: &str, tracking_url: &str) -> String {
    let (head, fragment) = match tracking_url.split_once('#') {
        Some((h, f)) => (h, Some(f)),
        None => (tracking_url, None),
    };
    let prefix = format!("{head}&lc_cid=");
    assert!(
        location.starts_with(&prefix),
        "location {location} does not extend {tracking_url}"
    );
    let rest = &location[prefix.len()..];
    let cid = match fragment {
        Some(f) => rest
            .strip_suffix(&format!("#{f}"))
            .expect("fragment kept last"),
        None => rest,
    };
    assert_eq!(cid.len(), 22, "click id {cid}");
    assert!(
        cid.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "click id {cid}"
    );
    cid.to_owned()
}

/// Polls link stats until `done` holds (click writes run after the
/// response, in `waitUntil`) or a bound passes; returns the last stats.
pub fn stats_until(slug: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = admin("GET", &format!("/api/v1/links/{slug}/stats"), None);
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        if done(&v) || Instant::now() > deadline {
            return v;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls until the human `clicks` reach `want`.
pub fn stats_eventually(slug: &str, want: u64) -> Value {
    stats_until(slug, |v| v["clicks"].as_u64() == Some(want))
}

/// Decodes one query parameter of a URL.
pub fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split('#').next()?.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

/// Decodes `application/x-www-form-urlencoded` text.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// Runs SQL against the worker's local D1 (the state directory the e2e
/// script started it with) and returns the result rows: what is really
/// stored, not what the API says.
pub fn d1(sql: &str) -> Vec<Value> {
    let state =
        std::env::var("LINKCREDIT_STATE").expect("LINKCREDIT_STATE is set by scripts/e2e.sh");
    // The worker may hold the write lock for a moment: retry while busy.
    let mut attempts = 0;
    let out = loop {
        let out = std::process::Command::new("bash")
            .args([
                "scripts/wrangler.sh",
                "d1",
                "execute",
                "DB",
                "--local",
                "--persist-to",
                &state,
                "--json",
                "--command",
                sql,
            ])
            .output()
            .expect("wrangler runs");
        // SQLITE_BUSY, or a CLI run that failed without saying why while the
        // worker held the file: try again (a bad statement fails each time).
        let busy = String::from_utf8_lossy(&out.stderr).contains("SQLITE_BUSY")
            || String::from_utf8_lossy(&out.stdout).contains("SQLITE_BUSY")
            || out.stderr.iter().all(u8::is_ascii_whitespace);
        attempts += 1;
        if out.status.success() || !busy || attempts >= 20 {
            break out;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(
        out.status.success(),
        "d1 {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "d1 output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    v[0]["results"].as_array().cloned().unwrap_or_default()
}

/// Runs `wrangler <args>` against the worker's local state
/// (`--local --persist-to`) and returns stdout.
pub fn wrangler_local(args: &[&str]) -> String {
    let state =
        std::env::var("LINKCREDIT_STATE").expect("LINKCREDIT_STATE is set by scripts/e2e.sh");
    let out = std::process::Command::new("bash")
        .arg("scripts/wrangler.sh")
        .args(args)
        .args(["--local", "--persist-to", &state])
        .output()
        .expect("wrangler runs");
    assert!(
        out.status.success(),
        "wrangler {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The keys under `prefix` in the worker's local `LINKS` KV namespace.
pub fn kv_keys(prefix: &str) -> Vec<String> {
    let out = wrangler_local(&[
        "kv",
        "key",
        "list",
        "--binding",
        "LINKS",
        "--prefix",
        prefix,
    ]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("kv list ({e}): {out}"));
    v.as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A value in the worker's local `LINKS` KV namespace.
pub fn kv_get(key: &str) -> String {
    wrangler_local(&["kv", "key", "get", key, "--binding", "LINKS", "--text"])
}

pub fn ingest_token() -> String {
    std::env::var("LINKCREDIT_INGEST_TOKEN").unwrap_or_else(|_| "dev-ingest-token".into())
}

pub fn reports_token() -> String {
    std::env::var("LINKCREDIT_REPORTS_TOKEN").unwrap_or_else(|_| "dev-reports-token".into())
}

/// A POST with the ingest token and a JSON body.
pub fn ingest(path: &str, body: &Value) -> Resp {
    let auth = format!("Bearer {}", ingest_token());
    request(
        "POST",
        path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some(&body.to_string()),
    )
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A promo code no other test uses: upper-case `[A-Z0-9]`, at most 32
/// characters.
pub fn unique_code(prefix: &str) -> String {
    let code = unique(prefix).to_uppercase().replace('-', "");
    code[..code.len().min(32)].to_owned()
}

pub fn shopify_secret() -> String {
    std::env::var("LINKCREDIT_SHOPIFY_SECRET")
        .unwrap_or_else(|_| "dev-shopify-webhook-secret".into())
}

/// `X-Shopify-Hmac-Sha256` of a body: base64(HMAC-SHA256(body, secret)).
pub fn shopify_sign(body: &[u8]) -> String {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(shopify_secret().as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Runs attribution (the tests share one lease) until every order in
/// `orders` is attributed, polling over HTTP (the D1 file is shared with
/// the worker; the CLI would lock it).
pub fn attribute_orders(orders: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        admin("POST", "/api/v1/attribution/run", Some(json!({})));
        let done = orders.iter().all(|o| {
            let r = admin("GET", &format!("/api/v1/conversions/{o}"), None);
            r.status == 200 && !r.json()["attributed_at"].is_null()
        });
        if done || Instant::now() > deadline {
            assert!(done, "attribution ran for {orders:?}");
            return;
        }
        std::thread::sleep(Duration::from_millis(1000));
    }
}

/// `GET /api/v1/reports?{query}` with the reports token; asserts the 200.
pub fn report(query: &str) -> Value {
    let auth = format!("Bearer {}", reports_token());
    let r = request(
        "GET",
        &format!("/api/v1/reports?{query}"),
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    r.json()
}

/// One request a [`Receiver`] got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: String,
    /// Whether `X-Linkcredit-Signature` verified (HMAC of `t.body`, `t`
    /// within 5 minutes of now), checked here with `hmac`, not the crate.
    pub verified: bool,
    /// The status the receiver answered.
    pub answered: u16,
}

/// A local webhook receiver: an HTTP/1.1 server on a free port that
/// verifies each delivery's signature with `secret` (400 when it does not
/// verify), then fails the first `fail_first` attempts of each delivery
/// (by `X-Linkcredit-Delivery`) with `fail_status` and answers 200 after.
pub struct Receiver {
    pub port: u16,
    pub got: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    pub fail_first: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Receiver {
    pub fn start(secret: &str, fail_first: usize, fail_status: u16) -> Receiver {
        use std::io::{BufRead, BufReader, Read, Write};
        use std::sync::atomic::AtomicUsize;
        use std::sync::{Arc, Mutex};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let fail = Arc::new(AtomicUsize::new(fail_first));
        let (got2, fail2, secret) = (got.clone(), fail.clone(), secret.to_owned());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                let mut headers = HashMap::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                    }
                }
                let len: usize = headers
                    .get("content-length")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; len];
                let _ = reader.read_exact(&mut body);
                let body = String::from_utf8_lossy(&body).into_owned();
                let verified = headers
                    .get("x-linkcredit-signature")
                    .is_some_and(|s| verify_signature(&secret, s, &body));
                let mut list = got2.lock().unwrap();
                let delivery = headers.get("x-linkcredit-delivery").cloned();
                let earlier = list
                    .iter()
                    .filter(|r| r.headers.get("x-linkcredit-delivery") == delivery.as_ref())
                    .count();
                let answered = if !verified {
                    400
                } else if earlier < fail2.load(Ordering::SeqCst) {
                    fail_status
                } else {
                    200
                };
                list.push(Received {
                    headers,
                    body,
                    verified,
                    answered,
                });
                drop(list);
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {answered} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Receiver {
            port,
            got,
            fail_first: fail,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// The requests of one delivery, in order.
    pub fn of(&self, delivery_id: i64) -> Vec<Received> {
        let id = delivery_id.to_string();
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.headers.get("x-linkcredit-delivery") == Some(&id))
            .cloned()
            .collect()
    }
}

/// What a receiver does with `X-Linkcredit-Signature: t=..,v1=..`: the
/// HMAC-SHA256 of `"{t}.{body}"`, compared in constant time, and `t`
/// within 300 s of now.
pub fn verify_signature(secret: &str, header: &str, body: &str) -> bool {
    use hmac::{Hmac, Mac};
    let mut t = None;
    let mut v1 = Vec::new();
    for pair in header.split(',') {
        match pair.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1.push(v.to_owned()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (now_ms() / 1000 - t).abs() > 300 {
        return false;
    }
    v1.iter().any(|sig| {
        let Ok(bytes) = (0..sig.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(sig.get(i..i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
        else {
            return false;
        };
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        mac.verify_slice(&bytes).is_ok()
    })
}

/// Runs the every-minute cron (webhook export and delivery) once.
pub fn delivery_cron() {
    let r = get("/__scheduled?cron=*+*+*+*+*", &[]);
    assert_eq!(r.status, 200, "{}", r.body);
}
