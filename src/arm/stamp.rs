//! ARM's timestamp text (`2024-01-29T10:00:00.000000Z`: microseconds, `Z`), written into a
//! buffer on the stack: documents carry several, and serialising one then allocates nothing.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
const LEN: usize = 27;

pub enum Stamp {
    Short([u8; LEN]),
    /// Years outside 0 to 9999 and leap seconds, which chrono spells its own way.
    Other(String),
}

impl Stamp {
    pub fn of(at: DateTime<Utc>) -> Stamp {
        let (year, nanos) = (at.year(), at.nanosecond());
        if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
            return Stamp::Other(at.to_rfc3339_opts(SecondsFormat::Micros, true));
        }
        let mut text = *b"0000-00-00T00:00:00.000000Z";
        let mut put = |at: usize, width: usize, mut value: u32| {
            for i in (at..at + width).rev() {
                text[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, year as u32);
        put(5, 2, at.month());
        put(8, 2, at.day());
        put(11, 2, at.hour());
        put(14, 2, at.minute());
        put(17, 2, at.second());
        put(20, 6, nanos / 1000);
        Stamp::Short(text)
    }

    pub fn as_str(&self) -> &str {
        match self {
            // Only ASCII digits and separators are written.
            Stamp::Short(text) => std::str::from_utf8(text).unwrap_or_default(),
            Stamp::Other(text) => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn writes_what_chrono_writes() {
        let times = [
            Utc.with_ymd_and_hms(2024, 1, 29, 10, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap() + chrono::Duration::microseconds(999_999),
            Utc.with_ymd_and_hms(5, 6, 7, 8, 9, 10).unwrap() + chrono::Duration::nanoseconds(1_234_567),
            Utc.with_ymd_and_hms(12_000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2016, 12, 31, 23, 59, 59).unwrap().with_nanosecond(1_500_000_000).unwrap(),
        ];
        for at in times {
            assert_eq!(Stamp::of(at).as_str(), at.to_rfc3339_opts(SecondsFormat::Micros, true));
        }
    }
}
