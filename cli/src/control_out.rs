//! Printing what key control returns (lost keys' impact, areas, stocktakes, offboarding,
//! the past as it was, overdue keys): aligned text for people, JSON for scripts.

use atslegas_core::areas::Area;
use atslegas_core::as_of::Holding;
use atslegas_core::lost::Impact;
use atslegas_core::offboard::{Clearance, Offboarding};
use atslegas_core::overdue::DueKey;
use atslegas_core::stocktake::{CountedKey, Scan, Stocktake};
use atslegas_core::time::local_display;

use crate::output::{opt, outln, print_json, table, when, Out};
use crate::stocktake_cmd::flat;

impl Out {
    pub fn impact(&self, i: &Impact) {
        if self.json {
            return print_json(i);
        }
        outln!("Key {} {} — {}", i.key, opt(&i.name), i.status);
        if let Some(l) = &i.lost {
            let who = l
                .person
                .as_deref()
                .map(|p| format!(", out to {p}"))
                .unwrap_or_default();
            outln!(
                "Lost:      {} ({}{who}, reported by {})",
                local_display(l.at),
                opt(&l.reason),
                l.reported_by
            );
        }
        if i.areas.is_empty() {
            outln!(
                "Opens:     no area the register knows (atslegas-cli key opens {} AREA...)",
                i.key
            );
        } else {
            outln!("Opens:     {}", i.areas.join(", "));
        }
        if i.recommend_rekey {
            outln!(
                "Re-key:    recommended: whoever has this key can open {}.",
                i.areas.join(", ")
            );
        } else {
            outln!("Re-key:    not needed by what the register knows.");
        }
        if !i.other_keys.is_empty() {
            outln!();
            table(
                &["OTHER KEY", "ROOM", "STATUS", "HOLDER NOW", "OPENS TOO"],
                i.other_keys
                    .iter()
                    .map(|k| {
                        vec![
                            k.number.clone(),
                            opt(&k.name).into(),
                            k.status.clone(),
                            opt(&k.holder).into(),
                            k.areas.join(", "),
                        ]
                    })
                    .collect(),
            );
        }
    }

    pub fn areas(&self, areas: &[Area]) {
        self.list(areas, &["AREA", "KEYS", "DESCRIPTION", "DELETED"], |a| {
            vec![
                a.name.clone(),
                a.keys.to_string(),
                opt(&a.description).into(),
                when(a.deleted_at),
            ]
        });
    }

    pub fn scans(&self, scans: &[Scan]) {
        if self.json {
            return print_json(scans);
        }
        for s in scans {
            let said = match (s.outcome, &s.key) {
                ("expected", _) => "counted".to_string(),
                ("unexpected", Some(k)) => match &k.holder {
                    Some(h) => format!("counted, but the register says it is {} to {h}", k.status),
                    None => format!("counted, but the register says it is {}", k.status),
                },
                ("repeat", _) => "already counted".to_string(),
                _ => "no such key: not counted".to_string(),
            };
            outln!("{}: {said}", s.text);
        }
        if let Some(last) = scans.last() {
            outln!("Counted so far: {}.", last.counted);
        }
    }

    pub fn stocktake(&self, s: &Stocktake) {
        if self.json {
            return print_json(&flat(s));
        }
        let Some(r) = &s.report else {
            outln!(
                "Stocktake {} started {} by {}: open, {} key(s) counted so far.",
                s.id,
                local_display(s.started_at),
                s.started_by,
                s.counted
            );
            return;
        };
        outln!(
            "Stocktake {} ({} to {}, {}): {} counted of {} expected on the hooks.",
            s.id,
            local_display(s.started_at),
            when(s.finished_at),
            opt(&s.finished_by),
            r.counted,
            r.expected
        );
        let rows = |keys: &[CountedKey]| -> Vec<Vec<String>> {
            keys.iter()
                .map(|k| {
                    vec![
                        k.number.clone(),
                        opt(&k.name).into(),
                        opt(&k.location).into(),
                        k.status.clone(),
                        opt(&k.holder).into(),
                    ]
                })
                .collect()
        };
        for (title, keys) in [
            ("Missing (should be on a hook, not scanned)", &r.missing),
            (
                "Unexpected (scanned, but out, lost or retired)",
                &r.unexpected,
            ),
        ] {
            outln!();
            if keys.is_empty() {
                outln!("{title}: none.");
            } else {
                outln!("{title}: {}", keys.len());
                table(&["KEY", "ROOM", "LOCATION", "STATUS", "HOLDER"], rows(keys));
            }
        }
    }

    pub fn stocktakes(&self, all: &[Stocktake]) {
        if self.json {
            return print_json(&all.iter().map(flat).collect::<Vec<_>>());
        }
        table(
            &[
                "ID",
                "STARTED",
                "BY",
                "FINISHED",
                "COUNTED",
                "MISSING",
                "UNEXPECTED",
            ],
            all.iter()
                .map(|s| {
                    let (m, u) = s
                        .report
                        .as_ref()
                        .map_or((String::new(), String::new()), |r| {
                            (r.missing.len().to_string(), r.unexpected.len().to_string())
                        });
                    vec![
                        s.id.to_string(),
                        local_display(s.started_at),
                        s.started_by.clone(),
                        when(s.finished_at),
                        s.counted.to_string(),
                        m,
                        u,
                    ]
                })
                .collect(),
        );
    }

    pub fn offboarding(&self, o: &Offboarding) {
        if self.json {
            return print_json(o);
        }
        let state = if o.person.active {
            "active"
        } else {
            "inactive"
        };
        outln!("{} — {state}", o.person.label());
        if o.keys.is_empty() {
            outln!(
                "Holds no keys: atslegas-cli person offboard {} --finish",
                o.person.code.as_deref().unwrap_or("CODE")
            );
        } else {
            table(
                &["KEY", "ROOM", "LOCATION", "ISSUED", "DUE BACK", "SET"],
                o.keys
                    .iter()
                    .map(|k| {
                        vec![
                            k.number.clone(),
                            opt(&k.name).into(),
                            opt(&k.location).into(),
                            when(k.issued_at),
                            when(k.due_back_at),
                            k.sets.join(", "),
                        ]
                    })
                    .collect(),
            );
            for s in &o.sets {
                let part = if s.whole {
                    "the whole set"
                } else {
                    "part of the set"
                };
                outln!("Set {}: {} ({part})", s.name, s.keys.join(", "));
            }
            outln!("Return each (atslegas-cli return KEY) or report it lost (atslegas-cli key lost KEY --reason ...), then --finish.");
        }
        if !o.clearances.is_empty() {
            let n: Vec<String> = o.clearances.iter().map(i64::to_string).collect();
            outln!("Clearances: {}", n.join(", "));
        }
    }

    pub fn clearance(&self, c: &Clearance) {
        if self.json {
            return print_json(c);
        }
        outln!("{} — clearance {}", c.site_name, c.number);
        outln!("Time:      {}", local_display(c.at));
        let more: Vec<&str> = [c.person_code.as_deref(), c.department.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        outln!(
            "Person:    {} {} (deactivated)",
            c.person_name,
            more.join(" · ")
        );
        outln!("By:        {}", c.actor);
        if c.still_held.is_empty() {
            outln!("Holds:     no keys of this register.");
        } else {
            outln!(
                "Holds:     still {} (admin's override: {})",
                c.still_held.join(", "),
                opt(&c.override_reason)
            );
        }
    }

    pub fn holdings(&self, rows: &[Holding], at: i64) {
        if self.json {
            return print_json(rows);
        }
        outln!("As of {}:", local_display(at));
        table(
            &["KEY", "ROOM", "STATE THEN", "PERSON", "SINCE", "DUE BACK"],
            rows.iter()
                .map(|h| {
                    vec![
                        h.key_number.clone(),
                        opt(&h.key_name).into(),
                        h.status.clone(),
                        opt(&h.person_name).into(),
                        when(h.since),
                        when(h.due_back_at),
                    ]
                })
                .collect(),
        );
    }

    pub fn overdue(&self, rows: &[DueKey]) {
        self.list(
            rows,
            &[
                "KEY", "PERSON", "CODE", "PHONE", "E-MAIL", "DUE BACK", "STATE",
            ],
            |d| {
                vec![
                    d.key_number.clone(),
                    d.person_name.clone(),
                    opt(&d.person_code).into(),
                    opt(&d.phone).into(),
                    opt(&d.email).into(),
                    local_display(d.due_back_at),
                    if d.overdue { "overdue" } else { "due today" }.into(),
                ]
            },
        );
    }
}
