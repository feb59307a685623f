//! Decimal figures in JSON: integer ratios rounded half away from zero, so
//! every rate a report or export shows is computed without a float.

use serde_json::json;
use serde_json::Value;

/// `a / b` rounded to `dp` decimals (half away from zero), as a JSON
/// number; `null` when `b` is 0.
pub fn ratio(a: i128, b: i128, dp: u32) -> Value {
    if b == 0 {
        return Value::Null;
    }
    let scale = 10i128.pow(dp);
    let n = a * scale;
    let (q, r) = (n / b, n % b);
    let q = if (r * 2).abs() >= b.abs() {
        q + n.signum() * b.signum()
    } else {
        q
    };
    json!(q as f64 / scale as f64)
}
