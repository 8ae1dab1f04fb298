//! `utcNow([format])`: the deployment's time written with a .NET format string, as ARM does.
//! The time is handed in; nothing here reads a clock.

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::evaluate::EvalError;

/// The format ARM uses when none is given.
pub const DEFAULT_FORMAT: &str = "yyyyMMddTHHmmssZ";

/// `now` written with `format`: a standard one (`u`, `s`, `o`, `d`, `t`) or a custom one of
/// `yyyy yy MM M dd d HH H hh h mm m ss s f… tt` and literal text (`'…'`, `\x`, punctuation).
pub fn utc_now(now: DateTime<Utc>, format: &str) -> Result<String, EvalError> {
    let custom = match format {
        "u" => "yyyy-MM-dd HH:mm:ssZ",
        "s" => "yyyy-MM-ddTHH:mm:ss",
        "o" | "O" => "yyyy-MM-ddTHH:mm:ss.fffffffZ",
        "d" => "M/d/yyyy",
        "t" => "h:mm tt",
        other => other,
    };
    let chars: Vec<char> = custom.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|&&x| x == c).count();
        let pad = |value: u32, width: usize| format!("{value:0width$}");
        match c {
            'y' => out += &if run >= 4 { pad(now.year() as u32, 4) } else { pad(now.year() as u32 % 100, 2) },
            'M' => out += &pad(now.month(), run.min(2)),
            'd' if run <= 2 => out += &pad(now.day(), run),
            'H' => out += &pad(now.hour(), run.min(2)),
            'h' => out += &pad((now.hour() + 11) % 12 + 1, run.min(2)),
            'm' => out += &pad(now.minute(), run.min(2)),
            's' => out += &pad(now.second(), run.min(2)),
            'f' | 'F' => {
                let digits = format!("{:09}", now.nanosecond() % 1_000_000_000);
                out += &digits[..run.min(7)];
            }
            't' => out += if now.hour() < 12 { "AM" } else { "PM" },
            '\'' | '"' => {
                let end = chars[i + 1..].iter().position(|&x| x == c).ok_or_else(|| {
                    EvalError(format!("The format '{format}' of the template function 'utcNow' has an unclosed quote."))
                })?;
                out.extend(&chars[i + 1..i + 1 + end]);
                i += end + 2;
                continue;
            }
            '\\' => {
                out.extend(chars.get(i + 1));
                i += 2;
                continue;
            }
            c if c.is_ascii_alphabetic() && !matches!(c, 'T' | 'Z') => {
                return Err(EvalError(format!(
                    "The format '{format}' of the template function 'utcNow' is not supported by azemu."
                )))
            }
            c => {
                out.extend(std::iter::repeat_n(c, run));
            }
        }
        i += run;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_arm_writes_them() {
        let at = DateTime::parse_from_rfc3339("2026-03-04T05:06:07.1234567Z").unwrap().with_timezone(&Utc);
        assert_eq!(utc_now(at, DEFAULT_FORMAT).unwrap(), "20260304T050607Z");
        assert_eq!(utc_now(at, "u").unwrap(), "2026-03-04 05:06:07Z");
        assert_eq!(utc_now(at, "d").unwrap(), "3/4/2026");
        assert_eq!(utc_now(at, "o").unwrap(), "2026-03-04T05:06:07.1234567Z");
        assert_eq!(utc_now(at, "yyyy-MM-dd").unwrap(), "2026-03-04");
        assert_eq!(utc_now(at, "'v'yyMMdd\\.HHmm").unwrap(), "v260304.0506");
        assert!(utc_now(at, "qq").is_err());
    }
}
