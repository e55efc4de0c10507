//! Cross-segment rules the guides state in prose, which table-driven validation cannot see:
//! the HL hierarchy, 837 service line numbering, claim totals and NPI check digits.
//! (pyx12 checks the first two only.)

use super::element::ElementIssue;
use crate::x12::segment::Segment;
use crate::x12::spec::ids;

/// A rule violation tied to a segment position in the set.
#[derive(Debug)]
pub struct RuleIssue {
    pub position: u32,
    pub segment: &'static str,
    /// IK304: 8 with an element issue, or a segment-level code such as 3 (missing).
    pub code: &'static str,
    pub message: String,
    pub issue: Option<ElementIssue>,
}

/// IK403 for a value that is well-formed but breaks a rule of the guide. X12 has no closer code
/// than "implementation pattern match failure".
const RULE_CODE: &str = "I12";

#[derive(Debug, Default)]
struct Hl {
    position: u32,
    wants_children: bool,
    has_children: bool,
}

#[derive(Debug)]
struct Claim {
    position: u32,
    total: i128,
    lines: i128,
    id: ClaimId,
}

/// A claim's CLM01, kept inline: copying it per claim must not allocate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimId {
    len: u8,
    bytes: [u8; 38],
}

impl ClaimId {
    /// CLM01 is at most 38 characters; longer values (already a finding) are cut.
    pub fn new(v: &[u8]) -> Self {
        let mut bytes = [0u8; 38];
        let len = v.len().min(38);
        bytes[..len].copy_from_slice(&v[..len]);
        Self {
            len: len as u8,
            bytes,
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes[..self.len as usize]).into_owned()
    }
}

/// Rule state for one transaction set.
#[derive(Debug, Default)]
pub struct Rules {
    is_837: bool,
    /// The service line segment and the element holding its charge.
    line_charge: Option<(u32, usize)>,
    hls: Vec<Hl>,
    stack: Vec<usize>,
    lx: u32,
    claim: Option<Claim>,
    /// Open LS loop: (LS01, position).
    ls: Option<(Vec<u8>, u32)>,
}

impl Rules {
    pub fn new(st01: &str, version: &str) -> Self {
        let line_charge: Option<(u32, usize)> = match version {
            v if v.starts_with("005010X222") => Some((ids::SV1, 2)),
            v if v.starts_with("005010X223") => Some((ids::SV2, 3)),
            v if v.starts_with("005010X224") => Some((ids::SV3, 2)),
            _ => None,
        };
        Self {
            is_837: st01 == "837",
            line_charge,
            ..Self::default()
        }
    }

    pub fn on_segment(&mut self, seg: &Segment<'_>, position: u32, out: &mut Vec<RuleIssue>) {
        let id = seg.id_key();
        if self.ls.is_some() && matches!(id, ids::HL | ids::SE) {
            self.close_ls(position, out);
        }
        match id {
            ids::LS => {
                self.close_ls(position, out);
                self.ls = Some((seg.element(1).to_vec(), position));
            }
            ids::LE => match self.ls.take() {
                Some((id, _)) if id == seg.element(1) => {}
                Some((id, _)) => out.push(issue(
                    position,
                    "LE",
                    1,
                    "447",
                    seg.element(1),
                    format!("LE01 must repeat LS01 {:?}", String::from_utf8_lossy(&id)),
                )),
                None => out.push(issue(
                    position,
                    "LE",
                    1,
                    "447",
                    seg.element(1),
                    "LE without a preceding LS".into(),
                )),
            },
            ids::HL => self.hl(seg, position, out),
            ids::NM1 => npi(seg, position, out),
            ids::CLM if self.is_837 => {
                self.close_claim(out);
                self.lx = 0;
                self.claim = Some(Claim {
                    position,
                    total: amount(seg.element(2)).unwrap_or(0),
                    lines: 0,
                    id: ClaimId::new(seg.element(1)),
                });
            }
            ids::LX if self.is_837 => {
                self.lx += 1;
                if parse_u32(seg.element(1)) != Some(self.lx) {
                    out.push(issue(
                        position,
                        "LX",
                        1,
                        "554",
                        seg.element(1),
                        format!("service line number should be {}", self.lx),
                    ));
                }
            }
            id if self.line_charge.is_some_and(|(s, _)| s == id) => {
                let Some((_, el)) = self.line_charge else {
                    return;
                };
                if let (Some(c), Some(a)) = (self.claim.as_mut(), amount(seg.element(el))) {
                    c.lines += a;
                }
            }
            _ => {}
        }
    }

    /// Checks what can only be judged at the end of the set.
    pub fn finish(&mut self, out: &mut Vec<RuleIssue>) {
        self.close_claim(out);
        for hl in self
            .hls
            .iter()
            .filter(|h| h.wants_children && !h.has_children)
        {
            out.push(issue(
                hl.position,
                "HL",
                4,
                "736",
                b"1",
                "HL04 says a child level follows, but none does".into(),
            ));
        }
    }

    fn close_ls(&mut self, position: u32, out: &mut Vec<RuleIssue>) {
        if let Some((id, _)) = self.ls.take() {
            out.push(RuleIssue {
                position,
                segment: "LE",
                code: "3",
                message: format!(
                    "the loop opened by LS*{} is not closed by an LE",
                    String::from_utf8_lossy(&id)
                ),
                issue: None,
            });
        }
    }

    fn hl(&mut self, seg: &Segment<'_>, position: u32, out: &mut Vec<RuleIssue>) {
        let expected = self.hls.len() + 1;
        let id = seg.element(1);
        if parse_u32(id) != Some(expected as u32) || id.first() == Some(&b'0') {
            out.push(issue(
                position,
                "HL",
                1,
                "628",
                id,
                format!("HL01 should be {expected}: HL IDs number the levels 1, 2, 3..."),
            ));
        }
        let parent = seg.element(2);
        if !parent.is_empty() {
            let p = std::str::from_utf8(parent)
                .ok()
                .and_then(|s| s.parse::<usize>().ok());
            match p.filter(|p| self.stack.contains(p)) {
                Some(p) => {
                    while self.stack.last() != Some(&p) {
                        self.stack.pop();
                    }
                    let h = &mut self.hls[p - 1];
                    if !h.wants_children {
                        out.push(issue(
                            position,
                            "HL",
                            2,
                            "734",
                            parent,
                            format!("HL {p} said (HL04=0) that no child level follows"),
                        ));
                    }
                    h.has_children = true;
                }
                None => out.push(issue(
                    position,
                    "HL",
                    2,
                    "734",
                    parent,
                    "HL02 does not name an enclosing HL level".into(),
                )),
            }
        } else {
            self.stack.clear();
        }
        self.hls.push(Hl {
            position,
            wants_children: seg.element(4) == b"1",
            has_children: false,
        });
        self.stack.push(expected);
    }

    fn close_claim(&mut self, out: &mut Vec<RuleIssue>) {
        if let (Some(c), Some(_)) = (self.claim.take(), self.line_charge)
            && c.total != c.lines
        {
            out.push(issue(
                c.position,
                "CLM",
                2,
                "782",
                &[],
                format!(
                    "claim {} total charge is {} but its service lines add up to {}",
                    c.id.text(),
                    fmt_amount(c.total),
                    fmt_amount(c.lines)
                ),
            ));
        }
    }
}

fn parse_u32(v: &[u8]) -> Option<u32> {
    if v.is_empty() || v.len() > 9 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0, |a, &b| a * 10 + u32::from(b - b'0')))
}

fn issue(
    position: u32,
    segment: &'static str,
    element: u8,
    reference: &str,
    value: &[u8],
    message: String,
) -> RuleIssue {
    RuleIssue {
        position,
        segment,
        code: "8",
        message: message.clone(),
        issue: Some(ElementIssue {
            element,
            component: 0,
            repetition: 0,
            reference: reference.into(),
            code: RULE_CODE,
            value: (!value.is_empty()).then(|| String::from_utf8_lossy(value).into_owned()),
            message,
        }),
    }
}

/// NM109 must be a valid NPI when NM108 says XX.
fn npi(seg: &Segment<'_>, position: u32, out: &mut Vec<RuleIssue>) {
    let v = seg.element(9);
    if seg.element(8) == b"XX" && !v.is_empty() && !is_valid_npi(v) {
        out.push(issue(
            position,
            "NM1",
            9,
            "67",
            v,
            format!(
                "{} is not a valid NPI (10 digits with a Luhn check digit)",
                String::from_utf8_lossy(v)
            ),
        ));
    }
}

/// NPI check digit: Luhn over the 80840-prefixed number (CMS NPI check-digit standard).
pub fn is_valid_npi(v: &[u8]) -> bool {
    if v.len() != 10 || !v.iter().all(u8::is_ascii_digit) {
        return false;
    }
    // The prefix 80840 contributes a constant 24 to the Luhn sum.
    let mut sum = 24;
    for (i, &b) in v[..9].iter().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    (10 - sum % 10) % 10 == u32::from(v[9] - b'0')
}

/// An X12 decimal as ten-thousandths (digits past the fourth decimal are dropped); `None` when
/// not a number.
pub fn amount(v: &[u8]) -> Option<i128> {
    let (neg, digits) = match v.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, v),
    };
    let (mut int, mut frac, mut frac_digits, mut seen_dot, mut any) =
        (0i128, 0i128, 0u32, false, false);
    for &b in digits {
        match b {
            b'.' if !seen_dot => seen_dot = true,
            b'0'..=b'9' if !seen_dot => {
                int = int.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
                any = true;
            }
            b'0'..=b'9' => {
                if frac_digits < 4 {
                    frac = frac * 10 + i128::from(b - b'0');
                    frac_digits += 1;
                }
                any = true;
            }
            _ => return None,
        }
    }
    if !any {
        return None;
    }
    let v = int.checked_mul(10_000)? + frac * 10i128.pow(4 - frac_digits);
    Some(if neg { -v } else { v })
}

fn fmt_amount(v: i128) -> String {
    let cents = v / 100;
    format!(
        "{}{}.{:02}",
        if v < 0 { "-" } else { "" },
        cents.abs() / 100,
        cents.abs() % 100
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npi_check_digit() {
        assert!(is_valid_npi(b"1234567893"));
        assert!(is_valid_npi(b"1245319599"));
        assert!(!is_valid_npi(b"1234567890"));
        assert!(!is_valid_npi(b"166666666"));
    }

    #[test]
    fn amounts() {
        assert_eq!(amount(b"12.5"), Some(125_000));
        assert_eq!(amount(b"-0.01"), Some(-100));
        assert_eq!(amount(b"100"), Some(1_000_000));
        assert_eq!(amount(b"1A"), None);
        assert_eq!(fmt_amount(125_000), "12.50");
    }
}
