//! User-agent classification: which in-app browser, OS and device a visit
//! came from, and whether it is a bot.
//!
//! Table-driven and first-match, in this order:
//! 1. **Named bots** ([`BOTS`]): link-preview fetchers, crawlers and tools,
//!    by specific tokens (`facebookexternalhit`, `Twitterbot`, `Googlebot`).
//!    Tokens are specific on purpose: Instagram on Pixel phones says
//!    `Google/google` and must stay human.
//! 2. **In-app browsers** ([`APPS`]): Instagram, TikTok, Facebook, ...
//! 3. **Generic bot markers** (`crawler`, `spider`, `+http`, ...), only for
//!    user agents that named no app.
//! 4. **Generic web views**: Android `; wv)`, or iOS WebKit without `Safari/`.
//!
//! An empty user agent is a bot (`empty`). The shell also treats `HEAD`
//! requests as bots; that is a property of the request, not of the UA.

use serde::Serialize;

/// What kind of bot: a preview fetcher gets an Open Graph page, the others
/// the plain redirect. None of them is ever counted as a human click.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BotKind {
    Preview,
    Crawler,
    Tool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bot {
    pub name: &'static str,
    pub kind: BotKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Ios,
    Android,
    Windows,
    Macos,
    Linux,
    Chromeos,
    Other,
}

impl Os {
    pub fn as_str(self) -> &'static str {
        match self {
            Os::Ios => "ios",
            Os::Android => "android",
            Os::Windows => "windows",
            Os::Macos => "macos",
            Os::Linux => "linux",
            Os::Chromeos => "chromeos",
            Os::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceClass {
    Mobile,
    Tablet,
    Desktop,
    Bot,
    Other,
}

impl DeviceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceClass::Mobile => "mobile",
            DeviceClass::Tablet => "tablet",
            DeviceClass::Desktop => "desktop",
            DeviceClass::Bot => "bot",
            DeviceClass::Other => "other",
        }
    }
}

/// The classification of one user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UaInfo {
    /// The in-app browser (`instagram`, `tiktok`, ..., `webview`).
    pub app: Option<&'static str>,
    pub os: Os,
    pub device_class: DeviceClass,
    pub bot: Option<Bot>,
}

impl UaInfo {
    pub fn is_bot(&self) -> bool {
        self.bot.is_some()
    }

    /// The family stored on a click: the app, `bot`, or the browser.
    pub fn family(&self, user_agent: &str) -> &'static str {
        if self.bot.is_some() {
            return "bot";
        }
        if let Some(app) = self.app {
            return app;
        }
        BROWSERS
            .iter()
            .find(|(needle, _)| user_agent.contains(needle))
            .map_or("other", |(_, family)| family)
    }
}

/// How a table entry matches.
#[derive(Debug, Clone, Copy)]
enum Needle {
    /// Case-sensitive substring.
    Has(&'static str),
    /// Case-sensitive prefix.
    Starts(&'static str),
}

impl Needle {
    fn matches(self, ua: &str) -> bool {
        match self {
            Needle::Has(s) => ua.contains(s),
            Needle::Starts(s) => ua.starts_with(s),
        }
    }
}

use BotKind::{Crawler, Preview, Tool};
use Needle::{Has, Starts};

/// Named bots, most specific first.
const BOTS: &[(Needle, &str, BotKind)] = &[
    (Has("facebookexternalhit"), "facebookexternalhit", Preview),
    (Has("facebookcatalog"), "facebookexternalhit", Preview),
    (Has("meta-externalagent"), "meta-externalagent", Preview),
    (Has("meta-externalfetcher"), "meta-externalagent", Preview),
    (Has("Twitterbot"), "twitterbot", Preview),
    (Has("Slackbot"), "slackbot", Preview),
    (Has("Slack-ImgProxy"), "slackbot", Preview),
    (Has("TelegramBot"), "telegrambot", Preview),
    (Starts("WhatsApp/"), "whatsapp", Preview),
    (Has("Discordbot"), "discordbot", Preview),
    (Has("LinkedInBot"), "linkedinbot", Preview),
    (Has("Pinterestbot"), "pinterestbot", Preview),
    (Has("Pinterest/0."), "pinterestbot", Preview),
    (Has("redditbot"), "redditbot", Preview),
    (Has("SkypeUriPreview"), "skypeuripreview", Preview),
    (Has("Embedly"), "embedly", Preview),
    (Has("Iframely"), "iframely", Preview),
    (Has("vkShare"), "vkshare", Preview),
    (Has("Mastodon/"), "mastodon", Preview),
    (Has("SnapchatAds"), "snapchatads", Preview),
    (Has("Snap URL Preview"), "snapchatads", Preview),
    (
        Has("Google-InspectionTool"),
        "google-inspectiontool",
        Crawler,
    ),
    (Has("AdsBot-Google"), "adsbot-google", Crawler),
    (Has("Mediapartners-Google"), "adsbot-google", Crawler),
    (Has("Googlebot"), "googlebot", Crawler),
    (Has("GoogleOther"), "googlebot", Crawler),
    (Has("Google-Extended"), "googlebot", Crawler),
    (Has("bingbot"), "bingbot", Crawler),
    (Has("BingPreview"), "bingbot", Crawler),
    (Has("Applebot"), "applebot", Crawler),
    (Has("YandexBot"), "yandexbot", Crawler),
    (Has("YandexMobileBot"), "yandexbot", Crawler),
    (Has("Baiduspider"), "baiduspider", Crawler),
    (Has("DuckDuckBot"), "duckduckbot", Crawler),
    (Has("PetalBot"), "petalbot", Crawler),
    (Has("AhrefsBot"), "ahrefsbot", Crawler),
    (Has("SemrushBot"), "semrushbot", Crawler),
    (Has("GPTBot"), "gptbot", Crawler),
    (Has("ChatGPT-User"), "gptbot", Crawler),
    (Has("OAI-SearchBot"), "gptbot", Crawler),
    (Has("ClaudeBot"), "claudebot", Crawler),
    (Has("Claude-User"), "claudebot", Crawler),
    (Has("Bytespider"), "bytespider", Crawler),
    (Has("Amazonbot"), "amazonbot", Crawler),
    (Has("HeadlessChrome"), "headless", Tool),
    (Starts("curl/"), "curl", Tool),
    (Starts("Wget/"), "wget", Tool),
    (Starts("python-requests/"), "python-requests", Tool),
    (Starts("Go-http-client/"), "go-http-client", Tool),
];

/// Every app name [`classify`] can return: the names in [`APPS`], plus
/// `webview` for web views of unnamed apps (targeting rules name these).
pub const APP_NAMES: &[&str] = &[
    "messenger",
    "threads",
    "instagram",
    "facebook",
    "tiktok",
    "snapchat",
    "x",
    "linkedin",
    "pinterest",
    "line",
    "wechat",
    "whatsapp",
    "google_app",
    "webview",
];

/// In-app browsers, most specific first (Messenger before Facebook, Threads
/// before Instagram).
const APPS: &[(Needle, &str)] = &[
    (Has("FBAN/MessengerForiOS"), "messenger"),
    (Has("FBAN/Messenger"), "messenger"),
    (Has("FB_IAB/MESSENGER"), "messenger"),
    (Has("Barcelona"), "threads"),
    (Has("Instagram"), "instagram"),
    (Has("FBAN/"), "facebook"),
    (Has("FBAV/"), "facebook"),
    (Has("FB_IAB/"), "facebook"),
    (Has("FBIOS"), "facebook"),
    (Has("musical_ly"), "tiktok"),
    (Has("Bytedance"), "tiktok"),
    (Has("TikTok"), "tiktok"),
    (Has("trill_"), "tiktok"),
    (Has("Snapchat"), "snapchat"),
    (Has("TwitterAndroid"), "x"),
    (Has("Twitter for"), "x"),
    (Has("LinkedInApp"), "linkedin"),
    (Has("Pinterest for"), "pinterest"),
    (Has("[Pinterest/"), "pinterest"),
    (Has(" Line/"), "line"),
    (Has("MicroMessenger"), "wechat"),
    (Has("WhatsApp"), "whatsapp"),
    (Has("WA4A/"), "whatsapp"),
    (Has("WAiOS/"), "whatsapp"),
    (Has(" GSA/"), "google_app"),
    (Has("GoogleApp/"), "google_app"),
];

/// Generic bot markers, matched on the lowercased UA of non-app visitors.
const GENERIC_BOT_MARKERS: &[&str] = &[
    "crawler",
    "spider",
    "bot/",
    "bot;",
    "bot)",
    "+http",
    "scrapy",
    "httpclient",
    "okhttp/",
    "java/",
    "libwww",
    "headless",
    "preview",
];

const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "edge"),
    ("EdgA/", "edge"),
    ("EdgiOS/", "edge"),
    ("OPR/", "opera"),
    ("SamsungBrowser/", "samsung"),
    ("Firefox/", "firefox"),
    ("FxiOS/", "firefox"),
    ("CriOS/", "chrome"),
    ("Chrome/", "chrome"),
    ("Safari/", "safari"),
];

/// Classifies a user agent.
pub fn classify(ua: &str) -> UaInfo {
    let ua = ua.trim();
    let bot_info = |bot: Bot| UaInfo {
        app: None,
        os: Os::Other,
        device_class: DeviceClass::Bot,
        bot: Some(bot),
    };
    if ua.is_empty() {
        return bot_info(Bot {
            name: "empty",
            kind: Tool,
        });
    }
    if let Some((_, name, kind)) = BOTS.iter().find(|(n, _, _)| n.matches(ua)) {
        return bot_info(Bot { name, kind: *kind });
    }
    let os = os(ua);
    let mut app = APPS
        .iter()
        .find(|(n, _)| n.matches(ua))
        .map(|(_, app)| *app);
    if app.is_none() {
        let lower = ua.to_ascii_lowercase();
        if GENERIC_BOT_MARKERS.iter().any(|m| lower.contains(m)) {
            return bot_info(Bot {
                name: "other",
                kind: Crawler,
            });
        }
        let ios_webview = os == Os::Ios
            && ua.contains("AppleWebKit")
            && ua.contains("Mobile/")
            && !ua.contains("Safari/");
        if ua.contains("; wv)") || ios_webview {
            app = Some("webview");
        }
    }
    UaInfo {
        app,
        os,
        device_class: device_class(ua, os),
        bot: None,
    }
}

fn os(ua: &str) -> Os {
    if ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod") || ua.contains("iOS") {
        Os::Ios
    } else if ua.contains("Android") {
        Os::Android
    } else if ua.contains("Windows") {
        Os::Windows
    } else if ua.contains("CrOS") {
        Os::Chromeos
    } else if ua.contains("Macintosh") || ua.contains("Mac OS X") {
        Os::Macos
    } else if ua.contains("Linux") || ua.contains("X11") {
        Os::Linux
    } else {
        Os::Other
    }
}

fn device_class(ua: &str, os: Os) -> DeviceClass {
    match os {
        Os::Ios if ua.contains("iPad") => DeviceClass::Tablet,
        Os::Ios => DeviceClass::Mobile,
        Os::Android if ua.contains("Mobile") || ua.contains("Phone") => DeviceClass::Mobile,
        Os::Android => DeviceClass::Tablet,
        Os::Windows | Os::Macos | Os::Linux | Os::Chromeos => DeviceClass::Desktop,
        Os::Other if ua.contains("Mobile") => DeviceClass::Mobile,
        Os::Other => DeviceClass::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One corpus line: `app, os, device_class, bot_name, user_agent`.
    fn check(line: &str) {
        let cols: Vec<&str> = line.splitn(5, '\t').collect();
        assert_eq!(cols.len(), 5, "malformed corpus line: {line}");
        let ua = cols[4];
        let got = classify(ua);
        let want_app = (cols[0] != "-").then_some(cols[0]);
        let want_bot = (cols[3] != "-").then_some(cols[3]);
        assert_eq!(
            (
                got.app,
                got.os.as_str(),
                got.device_class.as_str(),
                got.bot.map(|b| b.name)
            ),
            (want_app, cols[1], cols[2], want_bot),
            "UA: {ua:?}"
        );
    }

    #[test]
    fn app_names_are_exactly_the_apps_table_and_webview() {
        for (_, name) in APPS {
            assert!(APP_NAMES.contains(name), "{name} is missing from APP_NAMES");
        }
        for name in APP_NAMES {
            let known = *name == "webview" || APPS.iter().any(|(_, n)| n == name);
            assert!(known, "{name} is not a name classify returns");
        }
    }

    #[test]
    fn corpus() {
        let corpus = include_str!("../../tests/ua_corpus.tsv");
        let lines: Vec<&str> = corpus
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .collect();
        assert!(
            lines.len() >= 60,
            "the corpus has {} user agents",
            lines.len()
        );
        for line in lines {
            check(line);
        }
    }

    #[test]
    fn instagram_on_pixel_stays_human() {
        let ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240705.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.134 Mobile Safari/537.36 Instagram 340.0.0.22.109 Android (34/14; 420dpi; 1080x2205; Google/google; Pixel 8; shiba; shiba; en_US; 622796542)";
        let info = classify(ua);
        assert_eq!(
            (info.app, info.bot, info.os, info.device_class),
            (Some("instagram"), None, Os::Android, DeviceClass::Mobile)
        );
    }

    #[test]
    fn kinds_and_families() {
        assert_eq!(
            classify("facebookexternalhit/1.1").bot.unwrap().kind,
            Preview
        );
        assert_eq!(
            classify("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
                .bot
                .unwrap()
                .kind,
            Crawler
        );
        assert_eq!(classify("").bot.unwrap().name, "empty");
        assert_eq!(classify("Mozilla/5.0 (Linux; Android 13; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36").bot, None);
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
        assert_eq!(classify(chrome).family(chrome), "chrome");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0";
        assert_eq!(classify(edge).family(edge), "edge");
    }
}
