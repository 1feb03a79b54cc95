//! Routing rules as the watcher follows them: RTNLGRP_IPV4_RULE and RTNLGRP_IPV6_RULE. A rule
//! has no identity but what it says (the kernel deletes the rule that matches a request in
//! every field given), so the key is the whole record.

use crate::rule::encode::{dump_request, read_rule_message, RuleRecord, RTM_DELRULE, RTM_NEWRULE};
use crate::watch::object::{Object, Read};
use crate::watch::objects::Names;

const RTNLGRP_IPV4_RULE: u32 = 8;
const RTNLGRP_IPV6_RULE: u32 = 19;

pub struct Rules;

impl Object for Rules {
    const NAME: &'static str = "rule";
    const GROUPS: &'static [u32] = &[RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE];
    const TYPES: &'static [u16] = &[RTM_NEWRULE, RTM_DELRULE];

    /// The record as JSON: equal records, equal keys.
    type Key = String;
    type Record = RuleRecord;
    type Js = RuleRecord;

    /// `ip rule show`, both families.
    fn dump() -> Vec<u8> {
        dump_request(None)
    }

    fn read(msg: &[u8], _: &Names) -> Option<Read<String, RuleRecord>> {
        let record = read_rule_message(msg)?.record();
        Some(Read {
            key: serde_json::to_string(&record).ok()?,
            record,
            gone: crate::nla::message_type(msg)? == RTM_DELRULE,
        })
    }
}
