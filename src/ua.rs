//! User-agent families: which app or browser a click came from.
//!
//! A first-match table of substrings, most specific first: in-app browsers
//! (they embed a browser engine's tokens too), then crawlers, then browsers.
//! The family is stored on each click; raw user agents are not.

/// `(needle, family)`, matched case-sensitively in order.
const FAMILIES: &[(&str, &str)] = &[
    // In-app browsers.
    ("Instagram", "instagram"),
    ("FBAN/MessengerForiOS", "messenger"),
    ("FB_IAB/MESSENGER", "messenger"),
    ("FBAN/", "facebook"),
    ("FBAV/", "facebook"),
    ("FB_IAB", "facebook"),
    ("musical_ly", "tiktok"),
    ("Bytedance", "tiktok"),
    ("TikTok", "tiktok"),
    ("Snapchat", "snapchat"),
    ("TwitterAndroid", "x"),
    ("Twitter for", "x"),
    ("LinkedInApp", "linkedin"),
    ("Barcelona", "threads"),
    ("Pinterest/", "pinterest"),
    ("Line/", "line"),
    ("MicroMessenger", "wechat"),
    ("WhatsApp/", "whatsapp"),
    (" GSA/", "google_app"),
    // Crawlers and link-preview fetchers.
    ("facebookexternalhit", "bot"),
    ("meta-externalagent", "bot"),
    ("bot", "bot"),
    ("Bot", "bot"),
    ("crawler", "bot"),
    ("Crawler", "bot"),
    ("spider", "bot"),
    ("Spider", "bot"),
    ("curl/", "bot"),
    ("Wget/", "bot"),
    ("python-requests", "bot"),
    // Browsers.
    ("Edg/", "edge"),
    ("EdgiOS/", "edge"),
    ("OPR/", "opera"),
    ("SamsungBrowser/", "samsung"),
    ("Firefox/", "firefox"),
    ("FxiOS/", "firefox"),
    ("CriOS/", "chrome"),
    ("Chrome/", "chrome"),
    ("Safari/", "safari"),
];

/// The family of a user agent: an in-app browser (`instagram`, `tiktok`,
/// ...), `bot`, a browser (`chrome`, `safari`, ...), `empty` or `other`.
pub fn family(user_agent: &str) -> &'static str {
    if user_agent.trim().is_empty() {
        return "empty";
    }
    FAMILIES
        .iter()
        .find(|(needle, _)| user_agent.contains(needle))
        .map_or("other", |(_, family)| family)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ua: &str, expected: &str) {
        assert_eq!(family(ua), expected, "{ua}");
    }

    #[test]
    fn families() {
        check("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 334.0.4.32.98 (iPhone15,3; iOS 17_5; en_US; en; scale=3.00; 1290x2796; 609155132)", "instagram");
        check("Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240705.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.134 Mobile Safari/537.36 Instagram 340.0.0.22.109 Android (34/14; 420dpi; 1080x2205; Google/google; Pixel 8; shiba; shiba; en_US; 622796542)", "instagram");
        check("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_34.1.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US", "tiktok");
        check("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.38.108;FBBV/613418196]", "facebook");
        check(
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "bot",
        );
        check(
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "bot",
        );
        check("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "chrome");
        check("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "edge");
        check("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "safari");
        check(
            "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
            "firefox",
        );
        check("", "empty");
        check("something-else/1.0", "other");
    }
}
