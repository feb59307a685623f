//! `PRIVACY_MODE=strict`: no visitor cookie anywhere without consent. Runs
//! against the second worker `scripts/e2e.sh` starts (`--ignored strict_privacy::`),
//! which is configured strict.

#[test]
#[ignore]
fn strict_mode_sets_no_cookie_anywhere_without_consent() {
    // No EU header: outside the EU, strict mode still asks for consent.
    crate::privacy::check_anonymous_visits(&[]);
}
