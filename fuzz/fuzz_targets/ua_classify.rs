//! Fuzz target: `linkcredit::traffic::ua::classify` on any user agent.
//!
//! Invariants checked on every input:
//! * surrounding whitespace never changes the answer;
//! * a bot has no app, `os: other` and `device_class: bot`, and the click
//!   family is `bot`; a human is never `device_class: bot`;
//! * an empty (or all-whitespace) user agent is the `empty` bot;
//! * the family is one of the known names, and the result serialises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linkcredit::traffic::ua::{classify, DeviceClass, Os};

const FAMILIES: &[&str] = &[
    "bot", "edge", "opera", "samsung", "firefox", "chrome", "safari", "other",
];

fuzz_target!(|data: &[u8]| {
    let ua = String::from_utf8_lossy(data);
    let info = classify(&ua);

    assert_eq!(info, classify(ua.trim()), "trimming changed the answer");
    assert_eq!(
        info,
        classify(&format!(" \t{ua}\r\n")),
        "padding changed the answer"
    );

    if ua.trim().is_empty() {
        assert_eq!(info.bot.map(|b| b.name), Some("empty"));
    }
    let family = info.family(&ua);
    match info.bot {
        Some(_) => {
            assert_eq!(info.app, None);
            assert_eq!(info.os, Os::Other);
            assert_eq!(info.device_class, DeviceClass::Bot);
            assert_eq!(family, "bot");
        }
        None => {
            assert_ne!(info.device_class, DeviceClass::Bot);
            match info.app {
                Some(app) => assert_eq!(family, app),
                None => assert!(FAMILIES.contains(&family), "family {family}"),
            }
        }
    }
    serde_json::to_string(&info).expect("UaInfo serialises");
});
