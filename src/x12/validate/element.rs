//! Data element checks: presence, usage, length, character set, type, codes, syntax notes.
//!
//! Codes are the 999's IK403 values (X12 element 621).

use crate::x12::segment::{Segment, components};
use crate::x12::spec::{
    CompositeSpec, DataType, ElementSlot, ElementSpec, SegmentNode, SyntaxRule, Usage,
};

/// One element-level problem (an IK4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementIssue {
    /// Element position in the segment (IK401-1).
    pub element: u8,
    /// Component position, 0 for a simple element (IK401-2).
    pub component: u8,
    /// Repetition, 0 when the element does not repeat (IK401-3).
    pub repetition: u16,
    /// Data element reference number (IK402).
    pub reference: Box<str>,
    /// IK403.
    pub code: &'static str,
    /// Copy of the bad data (IK404), when there is any.
    pub value: Option<String>,
    pub message: String,
}

/// Segment-level result of element validation, and scratch state reused across segments.
#[derive(Debug)]
pub struct SegmentCheck {
    pub elements: Vec<ElementIssue>,
    /// The segment ends with a data element separator.
    pub syntax_error: bool,
    /// Separators of the interchange being checked.
    clean: Separators,
}

impl Default for SegmentCheck {
    fn default() -> Self {
        Self {
            elements: Vec::new(),
            syntax_error: false,
            clean: Separators {
                component: b':',
                repetition: b'^',
            },
        }
    }
}

/// Checks every element of `seg` against the guide segment.
pub fn check_segment(spec: &SegmentNode, seg: &Segment<'_>, out: &mut SegmentCheck) {
    let d = seg.delimiters();
    out.clean = Separators::of(d);
    let defined = spec.elements.len();
    let present = seg.len();
    if present > defined {
        let value = seg.element(defined + 1);
        out.elements.push(ElementIssue {
            element: (defined + 1).min(255) as u8,
            component: 0,
            repetition: 0,
            reference: "".into(),
            code: "3",
            value: Some(lossy(value)),
            message: format!(
                "too many data elements: the guide defines {defined}, found {present}"
            ),
        });
    }
    if seg.raw().last() == Some(&d.element) {
        out.syntax_error = true;
    }
    // Beyond the last element present only required ones have something to say.
    for &pos in spec.required.iter().filter(|&&p| p as usize > present) {
        out.elements.push(missing(&spec.elements[pos as usize - 1]));
    }
    for (slot, value) in spec.elements.iter().zip(seg.elements()) {
        let pos = slot.seq() as usize;
        if value.is_empty() {
            if slot.usage() == Usage::Required {
                out.elements.push(missing(slot));
            }
            continue;
        }
        // The common case is decided inline; the detailed checks run only on a doubt.
        let d = seg.delimiters();
        match slot {
            ElementSlot::Simple(e) if is_clean(e, value, out.clean) => {}
            ElementSlot::Composite(c)
                if composite_is_clean(c, value, d.component, d.repetition, out.clean) => {}
            ElementSlot::Simple(e) => check_repeating(e, pos, value, seg, &mut out.elements),
            ElementSlot::Composite(c) => check_composite(c, pos, value, seg, &mut out.elements),
        }
    }
    if let Some((q, v)) = spec.date_pair {
        date_format(spec, q, v, seg, &mut out.elements);
    }
    if !spec.syntax.is_empty() {
        for rule in &spec.syntax {
            syntax(rule, spec, seg, &mut out.elements);
        }
    }
}

/// A required element or composite that is absent.
fn missing(slot: &ElementSlot) -> ElementIssue {
    let (reference, name, what) = match slot {
        ElementSlot::Simple(e) => (e.data_ele.clone(), &e.name, "element"),
        ElementSlot::Composite(c) => (c.id.clone(), &c.name, "composite"),
    };
    ElementIssue {
        element: slot.seq(),
        component: 0,
        repetition: 0,
        message: format!("required {what} {name} ({reference}) is missing"),
        reference,
        code: "1",
        value: None,
    }
}

fn lossy(v: &[u8]) -> String {
    String::from_utf8_lossy(&v[..v.len().min(80)]).into_owned()
}

fn issue(
    e: &ElementSpec,
    element: usize,
    component: u8,
    rep: u16,
    code: &'static str,
    value: &[u8],
    msg: String,
) -> ElementIssue {
    ElementIssue {
        element: element.min(255) as u8,
        component,
        repetition: rep,
        reference: e.data_ele.clone(),
        code,
        value: (!value.is_empty()).then(|| lossy(value)),
        message: msg,
    }
}

/// Splits an element into repetitions and checks each one.
fn check_repeating(
    e: &ElementSpec,
    pos: usize,
    value: &[u8],
    seg: &Segment<'_>,
    out: &mut Vec<ElementIssue>,
) {
    // Called when the inline check (`is_clean`) found something to look at.
    let d = seg.delimiters();
    if let Some(rep_sep) = d.repetition.filter(|s| value.contains(s)) {
        let reps: Vec<&[u8]> = value.split(|&b| b == rep_sep).collect();
        if e.repeat <= 1 {
            out.push(issue(
                e,
                pos,
                0,
                0,
                "12",
                value,
                format!("{} does not repeat", e.name),
            ));
            return;
        }
        if reps.len() > e.repeat as usize {
            out.push(issue(
                e,
                pos,
                0,
                0,
                "12",
                value,
                format!(
                    "{} repeats {} times, at most {}",
                    e.name,
                    reps.len(),
                    e.repeat
                ),
            ));
        }
        for (i, r) in reps.iter().enumerate() {
            check_simple(e, pos, 0, (i + 1) as u16, r, d.component, out, true);
        }
        return;
    }
    check_simple(e, pos, 0, 0, value, d.component, out, true);
}

/// The common composite: no repetition, no more components than defined, each one clean and
/// each required one present.
#[inline(always)]
fn composite_is_clean(
    c: &CompositeSpec,
    value: &[u8],
    comp: u8,
    rep: Option<u8>,
    clean: Separators,
) -> bool {
    if c.usage == Usage::NotUsed || rep.is_some_and(|r| value.contains(&r)) {
        return false;
    }
    let mut parts = value.split(|&b| b == comp);
    for spec in &c.components {
        match parts.next() {
            Some(v) if !v.is_empty() && !is_clean(spec, v, clean) => return false,
            Some(v) if !v.is_empty() => {}
            _ if spec.usage == Usage::Required => return false,
            _ => {}
        }
    }
    parts.next().is_none()
}

fn check_composite(
    c: &CompositeSpec,
    pos: usize,
    value: &[u8],
    seg: &Segment<'_>,
    out: &mut Vec<ElementIssue>,
) {
    // Called when the inline check (`composite_is_clean`) found something to look at.
    let d = seg.delimiters();
    let composite_issue = |code: &'static str, msg: String| ElementIssue {
        element: pos as u8,
        component: 0,
        repetition: 0,
        reference: c.id.clone(),
        code,
        value: Some(lossy(value)),
        message: msg,
    };
    let repeats = d.repetition.is_some_and(|r| value.contains(&r));
    if repeats && c.repeat <= 1 {
        out.push(composite_issue("12", format!("{} does not repeat", c.name)));
        return;
    }
    let sep = d.repetition.filter(|_| repeats).unwrap_or(0);
    for (ri, rep) in value.split(|&b| repeats && b == sep).enumerate() {
        let rep_no = if repeats { (ri + 1) as u16 } else { 0 };
        if rep.iter().all(|&b| b == d.component) {
            if c.usage == Usage::Required && ri == 0 {
                out.push(composite_issue(
                    "1",
                    format!("required composite {} ({}) is missing", c.name, c.id),
                ));
            }
            continue;
        }
        if c.usage == Usage::NotUsed {
            out.push(composite_issue(
                "I10",
                format!("composite {} ({}) is marked Not Used", c.name, c.id),
            ));
            continue;
        }
        let count = components(rep, d.component).count();
        if count > c.components.len() {
            out.push(composite_issue(
                "13",
                format!(
                    "{} has {count} components, the guide defines {}",
                    c.name,
                    c.components.len()
                ),
            ));
        }
        let mut parts = components(rep, d.component);
        for comp in &c.components {
            let v = parts.next().unwrap_or(&[]);
            check_simple(comp, pos, comp.seq, rep_no, v, 0, out, false);
        }
    }
}

/// Checks one value (a simple element, one repetition, or one component).
#[allow(clippy::too_many_arguments)]
fn check_simple(
    e: &ElementSpec,
    pos: usize,
    comp: u8,
    rep: u16,
    v: &[u8],
    comp_sep: u8,
    out: &mut Vec<ElementIssue>,
    simple: bool,
) {
    let mut report =
        |code: &'static str, message: String| out.push(issue(e, pos, comp, rep, code, v, message));
    if v.is_empty() {
        if e.usage == Usage::Required && rep <= 1 {
            report(
                "1",
                format!("required element {} ({}) is missing", e.name, e.data_ele),
            );
        }
        return;
    }
    let sep = if simple { comp_sep } else { 0 };
    if is_clean(
        e,
        v,
        Separators {
            component: sep,
            repetition: sep,
        },
    ) {
        return;
    }
    if sep != 0 && v.contains(&sep) {
        return report(
            "6",
            format!(
                "{} is a simple element but holds a component separator",
                e.name
            ),
        );
    }
    if e.usage == Usage::NotUsed {
        return report(
            "I10",
            format!("{} ({}) is marked Not Used", e.name, e.data_ele),
        );
    }
    let measured = if e.data_type.is_numeric() {
        v.iter().filter(|&&b| b != b'-' && b != b'.').count()
    } else {
        v.len()
    };
    if measured < e.min as usize {
        report(
            "4",
            format!("{} is too short: {} < {}", e.name, measured, e.min),
        );
    }
    if measured > e.max as usize {
        report(
            "5",
            format!("{} is too long: {} > {}", e.name, measured, e.max),
        );
    }
    if let Some(bad) = v.iter().find(|&&b| b < 0x20 || b == 0x7F) {
        return report(
            "6",
            format!("{} contains control character 0x{bad:02X}", e.name),
        );
    }
    let trimmed = v.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    if matches!(e.data_type, DataType::AN | DataType::ID)
        && v.last() == Some(&b' ')
        && trimmed >= e.min as usize
    {
        report("6", format!("{} has trailing spaces", e.name));
    }
    if !e.codes.is_empty() && e.external.is_none() && !e.codes.contains(v) {
        report(
            "7",
            format!(
                "{:?} is not a valid code for {} ({})",
                lossy(v),
                e.name,
                e.data_ele
            ),
        );
    }
    // A date or time of the wrong length is reported as such (IK403 4/5), not again as invalid.
    let length_ok = (e.min as usize..=e.max as usize).contains(&measured);
    let dated = matches!(e.data_type, DataType::DT | DataType::TM);
    if let Some((code, what)) = type_error(e.data_type, v).filter(|_| length_ok || !dated) {
        report(code, format!("{} {what}: {:?}", e.name, lossy(v)));
    }
    if let Some(p) = e.pattern.filter(|p| !p.found_in(v)) {
        report(
            "7",
            format!("{} does not match the guide's pattern {p:?}", e.name),
        );
    }
}

/// The common case in one pass: a used, well-formed value of the right length and code.
/// Anything else goes through the detailed checks, which say what is wrong.
#[inline(always)]
fn is_clean(e: &ElementSpec, v: &[u8], clean: Separators) -> bool {
    if e.usage == Usage::NotUsed || e.pattern.is_some() || v.len() < e.min as usize {
        return false;
    }
    let coded = e.coded;
    let typed = match e.data_type {
        // A listed code is made of letters, digits and spaces (checked when specs load).
        DataType::ID if coded => v.len() <= e.max as usize,
        DataType::AN | DataType::ID => {
            v.len() <= e.max as usize && v.last() != Some(&b' ') && clean.clean(v)
        }
        DataType::N(_) => v.len() <= e.max as usize && v.iter().all(u8::is_ascii_digit),
        DataType::R => {
            let digits = v.iter().filter(|b| b.is_ascii_digit()).count();
            digits >= e.min as usize && digits <= e.max as usize && is_decimal(v)
        }
        DataType::DT => v.len() <= e.max as usize && is_date(v),
        DataType::TM => v.len() <= e.max as usize && is_time(v),
        DataType::B => false,
    };
    typed && (!coded || e.codes.contains(v))
}

/// The separators a clean value must not hold, besides the element separator and terminator
/// (which cannot occur in an element at all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Separators {
    component: u8,
    repetition: u8,
}

impl Separators {
    fn of(d: crate::x12::Delimiters) -> Self {
        Self {
            component: d.component,
            repetition: d.repetition.unwrap_or(d.component),
        }
    }

    /// Does `v` hold only extended-set characters (all of printable ASCII) and no separator?
    /// Eight bytes at a time, with the usual word tricks, since names and addresses are long.
    #[inline]
    fn clean(self, v: &[u8]) -> bool {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH != 0;
        let (c, r) = (
            ONES * u64::from(self.component),
            ONES * u64::from(self.repetition),
        );
        // Branch-free per word: the outcome is almost always "clean", so only the loop counts.
        let bad = |x: u64| {
            let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH != 0;
            let above_tilde = (x.wrapping_add(ONES) | x) & HIGH != 0;
            below_space | above_tilde | has_zero(x ^ c) | has_zero(x ^ r)
        };
        let word = |w: &[u8]| u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        if v.len() < 8 {
            // Short values (codes, dates, numbers: most of them) are cheaper byte by byte than
            // gathered into a word.
            let (c, r) = (self.component, self.repetition);
            return v
                .iter()
                .all(|&b| (0x20..=0x7E).contains(&b) && b != c && b != r);
        }
        let mut any_bad = false;
        for w in v.chunks_exact(8) {
            any_bad |= bad(word(w));
        }
        // The last eight bytes, overlapping the last full word: fine for an "all bytes" test.
        !(any_bad | bad(word(&v[v.len() - 8..])))
    }
}

/// Checks a value against its X12 type; returns the IK403 code and a description.
pub fn type_error(t: DataType, v: &[u8]) -> Option<(&'static str, &'static str)> {
    match t {
        DataType::N(_) => (!is_integer(v)).then_some(("6", "is not a whole number")),
        DataType::R => (!is_decimal(v)).then_some(("6", "is not a decimal number")),
        DataType::AN | DataType::ID => v
            .iter()
            .any(|&b| !EXTENDED[b as usize])
            .then_some(("6", "contains a character outside the X12 extended set")),
        DataType::DT => (!is_date(v)).then_some(("8", "is not a valid date")),
        DataType::TM => (!is_time(v)).then_some(("9", "is not a valid time")),
        DataType::B => None,
    }
}

fn is_integer(v: &[u8]) -> bool {
    let d = v.strip_prefix(b"-").unwrap_or(v);
    !d.is_empty() && d.iter().all(u8::is_ascii_digit)
}

fn is_decimal(v: &[u8]) -> bool {
    let d = v.strip_prefix(b"-").unwrap_or(v);
    let (int, frac) = match d.iter().position(|&b| b == b'.') {
        Some(i) => (&d[..i], Some(&d[i + 1..])),
        None => (d, None),
    };
    int.iter().all(u8::is_ascii_digit)
        && frac.is_none_or(|f| !f.is_empty() && f.iter().all(u8::is_ascii_digit))
        && !(int.is_empty() && frac.is_none())
}

/// The X12 5010 extended character set (letters, digits, space and listed punctuation).
static EXTENDED: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let punct = b" !\"&'()*+,-./:;?=%~@[]_{}\\|<>#$^`";
    let mut i = 0;
    while i < punct.len() {
        t[punct[i] as usize] = true;
        i += 1;
    }
    t
};

/// CCYYMMDD or YYMMDD.
pub fn is_date(v: &[u8]) -> bool {
    if !v.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let num = |s: &[u8]| s.iter().fold(0u32, |a, &b| a * 10 + u32::from(b - b'0'));
    let (year, rest) = match v.len() {
        8 => (num(&v[..4]), &v[4..]),
        6 => {
            let yy = num(&v[..2]);
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &v[2..])
        }
        _ => return false,
    };
    let (month, day) = (num(&rest[..2]), num(&rest[2..4]));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1800 && (1..=days).contains(&day)
}

/// HHMM, HHMMSS or HHMMSSd..d.
pub fn is_time(v: &[u8]) -> bool {
    if !v.iter().all(u8::is_ascii_digit) || !matches!(v.len(), 4 | 6..=8) {
        return false;
    }
    let two = |i: usize| u32::from(v[i] - b'0') * 10 + u32::from(v[i + 1] - b'0');
    two(0) <= 23 && two(2) <= 59 && (v.len() < 6 || two(4) <= 59)
}

/// A date value (data element 1251) must match the format its qualifier (1250) names.
fn date_format(spec: &SegmentNode, q: u8, at: u8, seg: &Segment<'_>, out: &mut Vec<ElementIssue>) {
    let (format, v) = (seg.element(q as usize), seg.element(at as usize));
    if v.is_empty() || out.iter().any(|i| i.element == at) {
        return;
    }
    let ok = match format {
        b"D8" => v.len() == 8 && is_date(v),
        b"D6" => v.len() == 6 && is_date(v),
        b"DT" => v.len() == 12 && is_date(&v[..8]) && is_time(&v[8..]),
        b"TM" => is_time(v),
        b"RD8" => {
            v.len() == 17
                && v[8] == b'-'
                && is_date(&v[..8])
                && is_date(&v[9..])
                && v[..8] <= v[9..]
        }
        _ => true,
    };
    if !ok && let Some(ElementSlot::Simple(e)) = spec.elements.get(at as usize - 1) {
        let code = if format == b"TM" { "9" } else { "8" };
        out.push(issue(
            e,
            at as usize,
            0,
            0,
            code,
            v,
            format!("{:?} is not a valid {} date", lossy(v), lossy(format)),
        ));
    }
}

fn syntax(rule: &SyntaxRule, spec: &SegmentNode, seg: &Segment<'_>, out: &mut Vec<ElementIssue>) {
    let present = |i: &u8| !seg.element(*i as usize).is_empty();
    let reference = |i: u8| {
        spec.elements
            .get(i as usize - 1)
            .map_or("".into(), |s| s.reference().into())
    };
    let mut flag = |i: u8, code: &'static str, msg: String| {
        // One report per element: a missing required element already says it all.
        if !out.iter().any(|x| x.element == i && x.component == 0) {
            out.push(ElementIssue {
                element: i,
                component: 0,
                repetition: 0,
                reference: reference(i),
                code,
                value: None,
                message: msg,
            });
        }
    };
    let ids = |v: &[u8]| {
        v.iter()
            .map(|i| format!("{}{i:02}", seg.id_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match rule {
        SyntaxRule::Paired(v) => {
            let n = v.iter().filter(|i| present(i)).count();
            if n != 0
                && n != v.len()
                && let Some(&m) = v.iter().find(|i| !present(i))
            {
                flag(
                    m,
                    "2",
                    format!("if any of {} is present, all are required", ids(v)),
                );
            }
        }
        SyntaxRule::Required(v) => {
            if !v.iter().any(present) {
                flag(v[0], "2", format!("at least one of {} is required", ids(v)));
            }
        }
        SyntaxRule::Exclusion(v) => {
            if let Some(&second) = v.iter().filter(|i| present(i)).nth(1) {
                flag(
                    second,
                    "10",
                    format!("at most one of {} may be present", ids(v)),
                );
            }
        }
        SyntaxRule::Conditional(first, rest) => {
            if present(first)
                && let Some(&m) = rest.iter().find(|i| !present(i))
            {
                flag(
                    m,
                    "2",
                    format!(
                        "{}{first:02} is present, so {} required",
                        seg.id_str(),
                        ids(rest)
                    ),
                );
            }
        }
        SyntaxRule::ListConditional(first, rest) => {
            if present(first) && !rest.iter().any(present) {
                flag(
                    rest[0],
                    "2",
                    format!(
                        "{}{first:02} is present, so one of {} is required",
                        seg.id_str(),
                        ids(rest)
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert!(is_date(b"20240229"));
        assert!(!is_date(b"20230229"));
        assert!(!is_date(b"20240231"));
        assert!(!is_date(b"2024023"));
        assert!(is_date(b"240101"));
        assert!(is_time(b"2359"));
        assert!(is_time(b"235959"));
        assert!(!is_time(b"2400"));
        assert!(!is_time(b"12345"));
    }

    #[test]
    fn numbers() {
        assert!(is_decimal(b"12.50"));
        assert!(is_decimal(b"-.5"));
        assert!(is_decimal(b"100"));
        assert!(!is_decimal(b"12A.00"));
        assert!(!is_decimal(b"1."));
        assert!(!is_decimal(b"-"));
        assert!(is_integer(b"-12"));
        assert!(!is_integer(b"1.2"));
    }

    #[test]
    fn charset() {
        assert_eq!(type_error(DataType::AN, b"O'BRIEN & SONS"), None);
        assert!(type_error(DataType::AN, "CAF\u{c9}".as_bytes()).is_some());
    }
}
