//! The administrative hierarchy (`hierarchy.toml`): province → city → county → township, with
//! Chinese and English names. Overflow climbs it when nobody is free in the caller's county.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Diagnostic, Source};
use crate::ids::{RegionId, is_valid_id};

/// An administrative level. Provinces (and the municipalities and autonomous regions at that
/// level) stand alone; every other region sits under a region of a higher level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// 省 / 自治区 / 直辖市.
    Province,
    /// 地级市 / 自治州 / 地区.
    City,
    /// 县 / 县级市 / 市辖区.
    County,
    /// 乡 / 镇 / 街道.
    Township,
}

impl Level {
    /// The level as written in `hierarchy.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
        }
    }
}

/// One region with its names, so prompts, logs and the console can say where a caller is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// Stable id used by the other files (`shicheng`).
    pub id: RegionId,
    /// Administrative level.
    pub level: Level,
    /// The region it belongs to; `None` only for provinces.
    pub parent: Option<RegionId>,
    /// Chinese name (`石城县`).
    pub zh: String,
    /// Pinyin / English name (`Shicheng County`).
    pub en: String,
    /// Administrative division code (GB/T 2260), for reports; optional.
    pub code: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    region: Vec<Spanned<RawRegion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    id: Spanned<String>,
    level: Level,
    parent: Option<Spanned<String>>,
    zh: String,
    en: String,
    code: Option<String>,
}

/// All regions the hotline serves, indexed by id.
#[derive(Clone, Debug, Default)]
pub struct Hierarchy {
    regions: BTreeMap<RegionId, Region>,
}

impl Hierarchy {
    /// The region with this id.
    pub fn get(&self, id: &RegionId) -> Option<&Region> {
        self.regions.get(id)
    }

    /// Whether the id is defined.
    pub fn contains(&self, id: &RegionId) -> bool {
        self.regions.contains_key(id)
    }

    /// All regions, in id order.
    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.regions.values()
    }

    /// The regions directly under `id`.
    pub fn children<'a>(&'a self, id: &'a RegionId) -> impl Iterator<Item = &'a Region> + 'a {
        self.regions
            .values()
            .filter(move |r| r.parent.as_ref() == Some(id))
    }

    /// The regions above `id`, nearest first (county → city → province). Empty for a province
    /// or an unknown id. Stops at a cycle, which [`crate::check`] reports anyway.
    pub fn ancestors(&self, id: &RegionId) -> Vec<RegionId> {
        let mut out: Vec<RegionId> = Vec::new();
        let mut cur = self.regions.get(id).and_then(|r| r.parent.as_ref());
        while let Some(p) = cur {
            if p == id || out.contains(p) {
                break;
            }
            out.push(p.clone());
            cur = self.regions.get(p).and_then(|r| r.parent.as_ref());
        }
        out
    }

    /// Parses `hierarchy.toml`: duplicate ids, bad parents (orphans), parents of a level not
    /// above the child, and parent cycles are reported to `out`.
    pub(crate) fn parse(src: &Source, out: &mut Vec<Diagnostic>) -> Option<Hierarchy> {
        let raw: RawFile = match src.parse() {
            Ok(r) => r,
            Err(d) => {
                out.push(d);
                return None;
            }
        };
        let mut h = Hierarchy::default();
        let mut lines: HashMap<RegionId, usize> = HashMap::new();
        let mut parent_spans = HashMap::new();
        for r in &raw.region {
            let span = r.span();
            let r = r.get_ref();
            let id_str = r.id.get_ref();
            if !is_valid_id(id_str) {
                out.push(src.at(
                    r.id.span(),
                    format!("region id `{id_str}` must be lowercase letters, digits, `-` or `_`"),
                ));
                continue;
            }
            let id = RegionId::new(id_str.as_str());
            if lines.contains_key(&id) {
                out.push(src.at(r.id.span(), format!("region `{id}` is defined twice")));
                continue;
            }
            lines.insert(id.clone(), src.line_of(span.start));
            if let Some(p) = &r.parent {
                parent_spans.insert(id.clone(), p.span());
            }
            h.regions.insert(
                id.clone(),
                Region {
                    id,
                    level: r.level,
                    parent: r
                        .parent
                        .as_ref()
                        .map(|p| RegionId::new(p.get_ref().as_str())),
                    zh: r.zh.clone(),
                    en: r.en.clone(),
                    code: r.code.clone(),
                },
            );
        }
        let in_cycle = report_cycles(&h, &lines, src, out);
        for r in h.regions.values() {
            let here = |msg: String| {
                let span = parent_spans.get(&r.id).cloned().unwrap_or_else(|| {
                    let off = line_start(src, lines[&r.id]);
                    off..off
                });
                src.at(span, msg)
            };
            let (id, lvl) = (&r.id, r.level.as_str());
            match (&r.parent, r.level) {
                (None, Level::Province) => {}
                (None, _) => out.push(here(format!(
                    "region `{id}` ({lvl}) has no parent: only a province may stand alone"
                ))),
                (Some(p), Level::Province) => out.push(here(format!(
                    "province `{id}` cannot have a parent (`{p}`)"
                ))),
                (Some(p), _) => match h.regions.get(p) {
                    None => out.push(here(format!(
                        "parent `{p}` of region `{id}` is not defined (orphan region)"
                    ))),
                    Some(pr) if pr.level >= r.level && !in_cycle.contains(id) => {
                        out.push(here(format!(
                            "region `{id}` ({lvl}) cannot sit under `{p}` ({})",
                            pr.level.as_str()
                        )))
                    }
                    Some(_) => {}
                },
            }
        }
        Some(h)
    }
}

/// Reports each parent cycle once, at its first member in file order; returns all members.
fn report_cycles(
    h: &Hierarchy,
    lines: &HashMap<RegionId, usize>,
    src: &Source,
    out: &mut Vec<Diagnostic>,
) -> HashSet<RegionId> {
    let mut members = HashSet::new();
    let mut by_line: Vec<&RegionId> = h.regions.keys().collect();
    by_line.sort_by_key(|id| lines[*id]);
    for start in by_line {
        if members.contains(start) {
            continue;
        }
        let mut path = vec![start.clone()];
        let mut cur = h.regions[start].parent.clone();
        while let Some(p) = cur {
            if &p == start {
                let names: Vec<&str> = path.iter().map(|r| r.as_str()).collect();
                let off = line_start(src, lines[start]);
                out.push(src.at(
                    off..off,
                    format!("parent cycle: {} → {start}", names.join(" → ")),
                ));
                members.extend(path);
                break;
            }
            if path.contains(&p) || !h.regions.contains_key(&p) {
                break; // a cycle further up (reported from its own member) or a dead end
            }
            path.push(p.clone());
            cur = h.regions[&p].parent.clone();
        }
    }
    members
}

/// Byte offset of the start of a 1-based line.
fn line_start(src: &Source, line: usize) -> usize {
    src.text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Hierarchy, Vec<String>) {
        let mut out = Vec::new();
        let h = Hierarchy::parse(&Source::inline("hierarchy.toml", text), &mut out).unwrap();
        (h, out.iter().map(|d| d.to_string()).collect())
    }

    fn region(id: &str, level: &str, parent: Option<&str>) -> String {
        let parent = parent.map_or(String::new(), |p| format!("parent = \"{p}\"\n"));
        format!("[[region]]\nid = \"{id}\"\nlevel = \"{level}\"\n{parent}zh = \"x\"\nen = \"x\"\n")
    }

    #[test]
    fn ancestors_climb_to_the_province() {
        let text = [
            region("jiangxi", "province", None),
            region("ganzhou", "city", Some("jiangxi")),
            region("shicheng", "county", Some("ganzhou")),
            region("qinjiang", "township", Some("shicheng")),
        ]
        .concat();
        let (h, errs) = parse(&text);
        assert!(errs.is_empty(), "{errs:?}");
        let ids = |v: Vec<RegionId>| v.into_iter().map(|r| r.to_string()).collect::<Vec<_>>();
        assert_eq!(
            ids(h.ancestors(&"qinjiang".into())),
            ["shicheng", "ganzhou", "jiangxi"]
        );
        assert_eq!(ids(h.ancestors(&"jiangxi".into())), Vec::<String>::new());
        assert_eq!(ids(h.ancestors(&"nowhere".into())), Vec::<String>::new());
        let kids: Vec<_> = h
            .children(&"ganzhou".into())
            .map(|r| r.id.to_string())
            .collect();
        assert_eq!(kids, ["shicheng"]);
    }

    #[test]
    fn county_may_sit_directly_under_a_province() {
        // 省直辖县级市 such as Xiantao in Hubei
        let text = [
            region("hubei", "province", None),
            region("xiantao", "county", Some("hubei")),
        ]
        .concat();
        assert!(parse(&text).1.is_empty());
    }

    #[test]
    fn orphans_and_levels() {
        let text = [
            region("a", "province", None),      // line 1
            region("b", "city", None),          // line 6
            region("c", "county", Some("zzz")), // line 11
            region("d", "province", Some("a")), // line 17
            region("e", "city", Some("f")),     // line 23
            region("f", "county", Some("a")),   // line 29
            region("a", "city", Some("a")),     // line 35
        ]
        .concat();
        let (_, errs) = parse(&text);
        assert_eq!(
            errs,
            [
                "hierarchy.toml:36: region `a` is defined twice",
                "hierarchy.toml:6: region `b` (city) has no parent: only a province may stand alone",
                "hierarchy.toml:14: parent `zzz` of region `c` is not defined (orphan region)",
                "hierarchy.toml:20: province `d` cannot have a parent (`a`)",
                "hierarchy.toml:26: region `e` (city) cannot sit under `f` (county)",
            ]
        );
    }

    #[test]
    fn cycles_are_reported_once() {
        let text = [
            region("p", "province", None),
            region("x", "city", Some("y")),
            region("y", "county", Some("z")),
            region("z", "township", Some("x")),
            region("w", "township", Some("x")),
        ]
        .concat();
        let (h, errs) = parse(&text);
        assert_eq!(errs, ["hierarchy.toml:6: parent cycle: x → y → z → x"]);
        // ancestors still terminate
        assert_eq!(h.ancestors(&"w".into()).len(), 3);
    }
}
