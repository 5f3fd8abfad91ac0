//! Times as virsh prints them.

use chrono::{Local, TimeZone, Utc};

/// A snapshot's creation time as `snapshot-list` shows it: local time with the offset
/// (`2026-12-02 16:47:15 +0000`).
pub fn creation_time(epoch: i64) -> String {
    match Local.timestamp_opt(epoch, 0).single() {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S %z").to_string(),
        None => epoch.to_string(),
    }
}

/// Now in UTC with milliseconds, as event timestamps (`2026-12-02 16:47:15.123+0000`).
pub fn now_utc_millis() -> String {
    Utc::now().format("%Y-%m-%d %H:%M:%S%.3f%z").to_string()
}

/// Now as a file name part (`2026-12-02-16:47:15`), for default screenshot names.
pub fn now_local_compact() -> String {
    Local::now().format("%Y-%m-%d-%H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats() {
        let t = super::creation_time(0);
        assert_eq!(t.len(), "1970-01-01 00:00:00 +0000".len(), "{t}");
        assert_eq!(
            super::now_utc_millis().len(),
            "2026-12-02 16:47:15.123+0000".len()
        );
    }
}
