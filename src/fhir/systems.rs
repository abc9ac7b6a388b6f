//! Code systems by the names carepath writes and reads them: JP Core's, and HL7's older names
//! still understood on the way in. A leaf: the mapping in (`inbound`, `clins`) and out
//! (`clinical`) both read it.

/// ICD-10 as HL7 names it: what carepath wrote before JP-CLINS; still understood on the way in.
pub const ICD10: &str = "http://hl7.org/fhir/sid/icd-10";
/// YJ code (個別医薬品コード) by its OID: what carepath wrote before; still understood on the way in.
pub const YJ: &str = "urn:oid:1.2.392.100495.20.1.73";
/// ICD-10 (2013) as JP Core names it.
pub const ICD10_JP: &str = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full";
/// The YJ code as JP Core names it.
pub const YJ_JP: &str = "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code";

/// The name carepath writes for a system a client may still use the older name of: a search
/// for `http://hl7.org/fhir/sid/icd-10|G30.1`, as carepath's own output said before JP-CLINS,
/// still finds the diagnoses it now writes in JP Core's ICD-10 system.
pub fn canonical(system: &str) -> &str {
    match system {
        ICD10 => ICD10_JP,
        YJ => YJ_JP,
        other => other,
    }
}
