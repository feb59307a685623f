//! The user agents a link is checked with: a desktop browser, a phone's
//! browser and two in-app browsers.

/// The user agents a link is checked with: `(name, User-Agent)`.
pub const AGENTS: [(&str, &str); 4] = [
    ("desktop_chrome", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
    ("ios_safari", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"),
    ("instagram", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/22B83 Instagram 354.0.0.29.90 (iPhone12,8; iOS 18_1; en_US; en; scale=2.00; 750x1334; 654111336; IABMV/1)"),
    ("tiktok", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 BytedanceWebview/d8a21c6 musical_ly_33.2.1 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US FalconTag/BDB55B46-0286-4504-847E-C8300CB9F79D"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::ua::{classify, DeviceClass, Os};

    #[test]
    fn agents_classify_as_intended() {
        let corpus = include_str!("../../../tests/ua_corpus.tsv");
        let want = [
            (None, Os::Windows, DeviceClass::Desktop, "chrome"),
            (None, Os::Ios, DeviceClass::Mobile, "safari"),
            (Some("instagram"), Os::Ios, DeviceClass::Mobile, "instagram"),
            (Some("tiktok"), Os::Ios, DeviceClass::Mobile, "tiktok"),
        ];
        for ((name, ua), want) in AGENTS.iter().zip(want) {
            let info = classify(ua);
            assert_eq!(
                (info.app, info.os, info.device_class, info.family(ua)),
                want,
                "{name}"
            );
            assert!(!info.is_bot(), "{name}");
        }
        for (name, ua) in &AGENTS[2..] {
            assert!(corpus.contains(ua), "{name}'s UA is not in the corpus");
        }
        let names: Vec<&str> = AGENTS.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            ["desktop_chrome", "ios_safari", "instagram", "tiktok"]
        );
    }
}
