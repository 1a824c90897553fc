"use strict";
// The message catalogues of hemoledger's pages, English and Arabic: one
// object per language. The dashboard (dashboard.js) reads the top level, the
// scanning station (../station/station.js) TEXT[lang].station. Both pages
// embed this file (engine/server/embed_page.cmake).

function arabicCount(n, one, two, few, many) {
  if (n === 1) return one;
  if (n === 2) return two;
  if (n >= 3 && n <= 10) return n + " " + few;
  return n + " " + many;
}

const TEXT = {
  en: {
    title: "Blood supply by governorate and group",
    doc_title: "hemoledger: blood supply",
    category: "Component",
    loading: "Loading…",
    cat: {red_cells: "Red cells", platelets: "Platelets", plasma: "Plasma",
          whole_blood: "Whole blood", cryo: "Cryoprecipitate"},
    phase: {green: "Green", pre_amber: "Pre-Amber", amber: "Amber", red: "Red"},
    supply_title: "Available units and days of supply",
    supply_note: w => "Each cell: units available now and days of supply (available ÷ average daily " +
      "demand over the last " + w + " days).",
    legend: {green: t => "≥ " + t.pre_amber + " days", pre_amber: t => "< " + t.pre_amber + " days",
             amber: t => "< " + t.amber + " days", red: t => "< " + t.red + " day"},
    no_demand: w => "no demand in the last " + w + " days",
    governorate: "Governorate",
    country: "Country total",
    days_short: d => d + " d",
    cell_label: (where, g, n, days, w, phase) => where + ", " + g + ": " + n +
      (n === 1 ? " unit" : " units") + " available, " +
      (days === null ? TEXT.en.no_demand(w) : days + " days of supply") + ", " + phase,
    alerts_title: "Open alerts",
    none_alerts: "No open alerts.",
    severity: {info: "Info", amber: "Amber", red: "Red"},
    alert_supply: (what, where, a) => what + " in " + where + ": " +
      (a.figures.days_of_supply === null ? "no days of supply figure" : fmtDays(a.figures.days_of_supply) + " days of supply") +
      ", " + a.figures.available + " available (" + TEXT.en.phase[a.figures.phase] + ")",
    alert_expiring: (what, where, a, to) => a.figures.units + " " + what + (a.figures.units === 1 ? " unit" : " units") +
      " at " + where + " expire within " + a.figures.horizon_hours + " h" +
      (to ? "; suggested transfer to " + to : ""),
    alert_recall: (what, where, a) => (a.figures.overdue ? "OVERDUE recall: " : "Recall: ") + what + " held by " + where +
      ", to be retrieved by " + a.figures.deadline.replace("T", " ").replace("Z", " UTC") +
      " (donor later positive for " + a.figures.test + ")",
    raised: "since",
    alert_reagent_cover: (r, where, a) => r + " at " + where + ": " + fmtDays(a.figures.days_of_cover) +
      " days of cover left (" + a.figures.on_hand + " " + a.figures.unit + "), minimum " + a.figures.min_cover_days,
    alert_reagent_expiring: (r, where, a) => "Lot " + a.lot + " of " + r + " at " + where + " (" +
      a.figures.on_hand + " " + a.figures.unit + ") expires on " + a.figures.expires_at.slice(0, 10),
    alert_stock_out: (what, where, a) => what + " in " + where + ": out of stock, with demand in the last " +
      a.figures.demand_memory_days + " days (Red)",
    alert_deferred: (where, a) => "Donation " + a.din + " at " + where + " was collected from a deferred donor (" +
      a.figures.reason + "): every component quarantined for good",
    alert_typing: (where, a) => "Typing discrepancy on donation " + a.din + " (" + a.figures.discrepancy +
      "): every component held until resolved",
    alert_positive: (where, a) => "Donation " + a.din + " blocked after release (" + a.figures.markers.join(", ") +
      "): " + where + " holds " + a.figures.units.map(u => u.product).join(", "),
    alert_notify: (where, a) => (a.figures.overdue ? "OVERDUE: " : "") + "notify the recipient of " + a.din + " " +
      a.product + " transfused at " + where + " by " + a.figures.deadline.replace("T", " ").replace("Z", " UTC") +
      " (donor later positive for " + a.figures.test + ")",
    bedside_title: "Vein to vein",
    bedside_note: "Units at the bedside: emergency releases awaiting the patient's group, " +
      "transfusion reactions under review, and units issued to a hospital with no recorded fate.",
    bedside: {emergency_release: "Emergency releases", transfusion_reaction: "Transfusion reactions",
              unknown_fate: "Units of unknown fate"},
    reaction: {febrile: "febrile reaction", allergic: "allergic reaction", anaphylactic: "anaphylaxis",
               taco: "TACO", trali: "TRALI", tad: "transfusion-associated dyspnoea",
               haemolytic_acute: "acute haemolytic reaction", haemolytic_delayed: "delayed haemolytic reaction",
               delayed_serologic: "delayed serologic reaction", hypotensive: "hypotensive reaction",
               ta_gvhd: "TA-GvHD", post_transfusion_purpura: "post-transfusion purpura",
               tti_bacterial: "suspected bacterial transmission", tti_viral: "suspected viral transmission",
               tti_parasitic: "suspected parasitic transmission", other: "other reaction"},
    reaction_severity: {non_severe: "non-severe", severe: "severe", life_threatening: "life-threatening",
                        death: "fatal"},
    imputability: {not_assessable: "not assessable", excluded: "excluded", unlikely: "unlikely",
                   possible: "possible", probable: "probable", certain: "certain"},
    alert_unknown_fate: (what, where, a, issuer) => "Unknown fate: " + what + " issued by " + issuer +
      " to " + where + ", no transfusion, return or discard recorded within " + a.figures.fate_hours + " h",
    alert_emergency: (what, where, a) => "Emergency release: " + what + " at " + where +
      (a.figures.incompatible ? ", INCOMPATIBLE with the patient's group " + a.figures.patient_group +
                                ": report the outcome at once"
                              : ", patient's group not yet recorded"),
    alert_rhd_exception: (what, where, a) => "RhD exception approved: " + what + " for a " +
      a.figures.patient_group + " patient at " + where + "; anti-D follow-up may be needed",
    alert_reaction: (what, where, a) => "Transfusion reaction at " + where + ": " +
      TEXT.en.reaction_severity[a.figures.severity] + " " + TEXT.en.reaction[a.figures.reaction] +
      " after " + what + " (imputability " + TEXT.en.imputability[a.figures.imputability] + ")",
    alert_hold: (what, where, a) => "Hold: " + what + " at " + where + " must not be used; its donation " +
      "is suspected of " + TEXT.en.reaction[a.figures.reaction],
    expiring_title: "Units expiring soon",
    expiring_note: "Available units expiring within 72 hours (platelets 24 hours), soonest first, " +
      "with a transfer to the shortest blood bank nearby.",
    none_expiring: "No available unit expires within 72 hours (platelets 24 hours).",
    more: n => "and " + n + " more",
    hours_left: h => h < 1 ? "less than 1 h left" : h + " h left",
    suggest: "Suggested transfer to",
    supply_there: (days, phase) => days + " days of supply, " + phase,
    no_short: "No nearby bank is short",
    ok: "Engine OK",
    degraded: "Engine degraded",
    down: "Engine unreachable",
    kafka: "Kafka",
    embedded: "embedded mock cluster: for development and demos only",
    kafka_problem: "Kafka problem",
    storage_problem: "Storage problem",
    lag: n => n + (n === 1 ? " message" : " messages") + " not yet applied",
    updated: "updated",
    last_data: "showing data from",
  },
  ar: {
    title: "مخزون الدم حسب المحافظة والفصيلة",
    doc_title: "hemoledger: مخزون الدم",
    category: "المكوّن",
    loading: "جارٍ التحميل…",
    cat: {red_cells: "الكريات الحمراء", platelets: "الصفائح الدموية", plasma: "البلازما",
          whole_blood: "الدم الكامل", cryo: "الراسب البردي"},
    phase: {green: "أخضر", pre_amber: "ما قبل الكهرماني", amber: "كهرماني", red: "أحمر"},
    supply_title: "الوحدات المتاحة وأيام الإمداد",
    supply_note: w => "في كل خانة: عدد الوحدات المتاحة الآن وأيام الإمداد (المتاح ÷ متوسط الطلب " +
      "اليومي خلال آخر " + w + " يومًا).",
    legend: {green: t => "≥ " + t.pre_amber + " أيام", pre_amber: t => "< " + t.pre_amber + " أيام",
             amber: t => "< " + t.amber + " يوم", red: t => "< " + t.red + " يوم"},
    no_demand: w => "لا طلب خلال آخر " + w + " يومًا",
    governorate: "المحافظة",
    country: "مجموع البلد",
    days_short: d => d + " يوم",
    cell_label: (where, g, n, days, w, phase) => where + "، " + g + ": الوحدات المتاحة " + n + "، " +
      (days === null ? TEXT.ar.no_demand(w) : "أيام الإمداد " + days) + "، " + phase,
    alerts_title: "التنبيهات المفتوحة",
    none_alerts: "لا توجد تنبيهات مفتوحة.",
    severity: {info: "معلومة", amber: "كهرماني", red: "أحمر"},
    alert_supply: (what, where, a) => what + " في " + where + ": " +
      (a.figures.days_of_supply === null ? "لا يوجد رقم لأيام الإمداد" : "أيام الإمداد " + fmtDays(a.figures.days_of_supply)) +
      "، المتاح " + a.figures.available + " (" + TEXT.ar.phase[a.figures.phase] + ")",
    alert_expiring: (what, where, a, to) => "وحدات " + what + " في " + where + " عددها " + a.figures.units +
      " تنتهي صلاحيتها خلال " + a.figures.horizon_hours + " ساعة" + (to ? "؛ نقل مقترح إلى " + to : ""),
    alert_recall: (what, where, a) => (a.figures.overdue ? "استرجاع متأخر: " : "استرجاع: ") + what + " لدى " + where +
      "، يجب استرجاعها قبل " + a.figures.deadline.replace("T", " ").replace("Z", " UTC") +
      " (نتيجة إيجابية لاحقة للمتبرع: " + a.figures.test + ")",
    raised: "منذ",
    alert_reagent_cover: (r, where, a) => r + " في " + where + ": تكفي " + fmtDays(a.figures.days_of_cover) +
      " يوم (" + a.figures.on_hand + ")، والحد الأدنى " + a.figures.min_cover_days + " يوم",
    alert_reagent_expiring: (r, where, a) => "التشغيلة " + a.lot + " من " + r + " في " + where + " (" +
      a.figures.on_hand + ") تنتهي صلاحيتها في " + a.figures.expires_at.slice(0, 10),
    alert_stock_out: (what, where, a) => what + " في " + where + ": نفد المخزون، مع طلب خلال آخر " +
      a.figures.demand_memory_days + " يوم (أحمر)",
    alert_deferred: (where, a) => "التبرع " + a.din + " في " + where + " جُمع من متبرع مؤجَّل (" +
      a.figures.reason + "): حُجرت كل مكوناته نهائيًا",
    alert_typing: (where, a) => "تعارض في فصيلة التبرع " + a.din + " (" + a.figures.discrepancy +
      "): حُجزت كل مكوناته حتى يُحسم",
    alert_positive: (where, a) => "التبرع " + a.din + " حُجب بعد الإفراج (" + a.figures.markers.join("، ") +
      "): لدى " + where + " الوحدات " + a.figures.units.map(u => u.product).join("، "),
    alert_notify: (where, a) => (a.figures.overdue ? "متأخر: " : "") + "يجب إبلاغ متلقي " + a.din + " " +
      a.product + " المنقول في " + where + " قبل " + a.figures.deadline.replace("T", " ").replace("Z", " UTC") +
      " (نتيجة إيجابية لاحقة للمتبرع: " + a.figures.test + ")",
    bedside_title: "من الوريد إلى الوريد",
    bedside_note: "الوحدات عند سرير المريض: الصرف الطارئ بانتظار فصيلة المريض، وتفاعلات نقل الدم " +
      "قيد المراجعة، والوحدات المصروفة لمستشفى دون تسجيل مصيرها.",
    bedside: {emergency_release: "الصرف الطارئ", transfusion_reaction: "تفاعلات نقل الدم",
              unknown_fate: "وحدات مصيرها غير معروف"},
    reaction: {febrile: "تفاعل حُمّوي", allergic: "تفاعل تحسسي", anaphylactic: "صدمة تأقية",
               taco: "فرط الحمل الدوري (TACO)", trali: "أذية رئوية حادة مرتبطة بنقل الدم (TRALI)",
               tad: "ضيق تنفس مرتبط بنقل الدم", haemolytic_acute: "تفاعل انحلالي حاد",
               haemolytic_delayed: "تفاعل انحلالي متأخر", delayed_serologic: "تفاعل مصلي متأخر",
               hypotensive: "تفاعل خافض للضغط", ta_gvhd: "داء الطعم حيال الثوي المرتبط بنقل الدم",
               post_transfusion_purpura: "فرفرية ما بعد نقل الدم",
               tti_bacterial: "اشتباه بانتقال عدوى جرثومية", tti_viral: "اشتباه بانتقال عدوى فيروسية",
               tti_parasitic: "اشتباه بانتقال عدوى طفيلية", other: "تفاعل آخر"},
    reaction_severity: {non_severe: "غير شديد", severe: "شديد", life_threatening: "مهدد للحياة",
                        death: "مميت"},
    imputability: {not_assessable: "غير قابل للتقييم", excluded: "مستبعد", unlikely: "غير مرجّح",
                   possible: "محتمل", probable: "مرجّح", certain: "مؤكد"},
    alert_unknown_fate: (what, where, a, issuer) => "مصير غير معروف: " + what + " صُرفت من " + issuer +
      " إلى " + where + " ولم يُسجَّل نقلها أو إرجاعها أو إتلافها خلال " + a.figures.fate_hours + " ساعة",
    alert_emergency: (what, where, a) => "صرف طارئ: " + what + " في " + where +
      (a.figures.incompatible ? "، غير متوافقة مع فصيلة المريض " + a.figures.patient_group +
                                ": أبلغوا عن حالة المريض فورًا"
                              : "، لم تُسجَّل فصيلة المريض بعد"),
    alert_rhd_exception: (what, where, a) => "استثناء RhD بموافقة: " + what + " لمريض فصيلته " +
      a.figures.patient_group + " في " + where + "؛ قد تلزم متابعة Anti-D",
    alert_reaction: (what, where, a) => "تفاعل نقل دم في " + where + ": " +
      TEXT.ar.reaction[a.figures.reaction] + " (" + TEXT.ar.reaction_severity[a.figures.severity] + ") بعد " +
      what + " (الارتباط السببي: " + TEXT.ar.imputability[a.figures.imputability] + ")",
    alert_hold: (what, where, a) => "حجز: " + what + " في " + where + " يجب ألا تُستخدم؛ يُشتبه بأن تبرّعها سبّب " +
      TEXT.ar.reaction[a.figures.reaction],
    expiring_title: "وحدات تنتهي صلاحيتها قريبًا",
    expiring_note: "الوحدات المتاحة التي تنتهي صلاحيتها خلال 72 ساعة (الصفائح 24 ساعة)، الأقرب أولًا، " +
      "مع نقل مقترح إلى أكثر بنوك الدم القريبة نقصًا.",
    none_expiring: "لا توجد وحدة متاحة تنتهي صلاحيتها خلال 72 ساعة (الصفائح 24 ساعة).",
    more: n => "و" + n + " غيرها",
    hours_left: h => h < 1 ? "بقي أقل من ساعة" :
      "بقي " + arabicCount(h, "ساعة واحدة", "ساعتان", "ساعات", "ساعة"),
    suggest: "نقل مقترح إلى",
    supply_there: (days, phase) => "أيام الإمداد " + days + "، " + phase,
    no_short: "لا يوجد بنك دم قريب يعاني نقصًا",
    ok: "المحرك يعمل",
    degraded: "المحرك متعثر",
    down: "تعذّر الوصول إلى المحرك",
    kafka: "كافكا",
    embedded: "عنقود تجريبي مدمج: للتطوير والعروض فقط",
    kafka_problem: "مشكلة في كافكا",
    storage_problem: "مشكلة في التخزين",
    lag: n => "رسائل لم تُطبّق بعد: " + n,
    updated: "آخر تحديث",
    last_data: "آخر بيانات من",
  },
};

// The scanning station's words (engine/server/station/). `codes` words the
// engine's and the station's codes (docs/station.md, projections/projector.h)
// from an answer's details; a code without a sentence here is shown with the
// engine's own English sentence.
TEXT.en.station = {
  doc_title: "hemoledger: scanning station",
  title: "Scanning station",
  bench_at: "Bench at",
  sign_in_title: "Sign in",
  sign_in_note: "Scan or type this bench's station token.",
  token_label: "Station token",
  facility_label: "Facility code",
  sign_in: "Sign in",
  sign_out: "Sign out",
  open_api: "This engine has no tokens (development only): name the bench's facility.",
  signing_in: "Signing in…",
  action: {collect: "Collect", receive: "Receive", release: "Release", reserve: "Reserve",
           issue: "Issue", return: "Return", transfuse: "Transfuse", discard: "Discard",
           dispatch: "Dispatch", "receive-transfer": "Receive transfer",
           emergency: "Emergency release", thaw: "Thaw", reaction: "Transfusion reaction",
           "type-patient": "Patient's group"},
  need: {patient: "Patient (pseudonym or wristband)", patient_group: "Patient's blood group",
         to: "Destination", discard_reason: "Reason", reason: "Reason (why)",
         approver: "Approving physician", reaction: "Reaction", severity: "Severity",
         imputability: "Imputability", onset: "Onset (date and time)"},
  choose: "choose…",
  scan_label: "Scan",
  clear_unit: "Clear unit",
  ready: "Scan the unit's labels: DIN, product, blood group, expiry (or its 2-D label).",
  read_so_far: "Labels read:",
  still_needed: "still needed:",
  part: {din: "DIN", product: "product", group: "blood group", expiry: "expiry", donor: "donor"},
  checking: "Checking…",
  ok: "OK", stop: "STOP", wait: "WAIT",
  ok_text: (unit, action, group) => unit + ": " + action + " recorded" + (group ? " (" + group + ")" : "") + ".",
  cleared: "Unit cleared; scan the next unit.",
  unreachable: "The engine cannot be reached: nothing was recorded.",
  history_title: "This session",
  none_yet: "No unit scanned yet.",
  codes: {},
};

TEXT.ar.station = {
  doc_title: "hemoledger: محطة المسح",
  title: "محطة المسح",
  bench_at: "المحطة في",
  sign_in_title: "تسجيل الدخول",
  sign_in_note: "امسح رمز هذه المحطة أو اكتبه.",
  token_label: "رمز المحطة",
  facility_label: "رمز المرفق",
  sign_in: "دخول",
  sign_out: "خروج",
  open_api: "لا رموز في هذا المحرك (للتطوير فقط): اكتب رمز مرفق المحطة.",
  signing_in: "جارٍ الدخول…",
  action: {collect: "جمع تبرّع", receive: "استلام مكوّن", release: "إفراج", reserve: "حجز",
           issue: "صرف", return: "إرجاع", transfuse: "نقل للمريض", discard: "إتلاف",
           dispatch: "إرسال", "receive-transfer": "استلام نقل",
           emergency: "صرف طارئ", thaw: "إذابة", reaction: "تفاعل نقل الدم",
           "type-patient": "فصيلة المريض"},
  need: {patient: "المريض (اسم مستعار أو سوار المعصم)", patient_group: "فصيلة دم المريض",
         to: "الوجهة", discard_reason: "السبب", reason: "السبب (لماذا)",
         approver: "الطبيب المعتمِد", reaction: "التفاعل", severity: "الشدّة",
         imputability: "درجة الارتباط بالنقل", onset: "وقت البدء (التاريخ والساعة)"},
  choose: "اختر…",
  scan_label: "امسح",
  clear_unit: "إلغاء الوحدة",
  ready: "امسح ملصقات الوحدة: رقم التبرع والمنتج والفصيلة وتاريخ الانتهاء (أو ملصقها ثنائي الأبعاد).",
  read_so_far: "الملصقات المقروءة:",
  still_needed: "المطلوب بعد:",
  part: {din: "رقم التبرع", product: "المنتج", group: "الفصيلة", expiry: "تاريخ الانتهاء", donor: "المتبرع"},
  checking: "جارٍ التحقق…",
  ok: "موافق", stop: "توقّف", wait: "انتظر",
  ok_text: (unit, action, group) => unit + ": سُجّل «" + action + "»" + (group ? " (" + group + ")" : "") + ".",
  cleared: "أُلغيت الوحدة؛ امسح الوحدة التالية.",
  unreachable: "تعذّر الوصول إلى المحرك: لم يُسجَّل شيء.",
  history_title: "هذه الجلسة",
  none_yet: "لم تُمسح أي وحدة بعد.",
  codes: {
    unit_issued: d => "الوحدة " + d.unit + " مصروفة من قبل؛ لا يجوز «" + d.action + "».",
    unit_quarantined: d => "الوحدة " + d.unit + " في الحجر: لم تكتمل فحوصها أو أُوقفت؛ لا يجوز «" + d.action + "».",
    unit_reserved: d => "الوحدة " + d.unit + " محجوزة؛ لا يجوز «" + d.action + "».",
    unit_available: d => "الوحدة " + d.unit + " متاحة في المخزون؛ لا يجوز «" + d.action + "».",
    unit_in_transit: d => "الوحدة " + d.unit + " قيد النقل؛ لا يجوز «" + d.action + "».",
    unit_transfused: d => "نُقلت الوحدة " + d.unit + " لمريض من قبل؛ لا يجوز «" + d.action + "».",
    unit_discarded: d => "الوحدة " + d.unit + " متلفة؛ لا يجوز «" + d.action + "».",
    unit_expired: d => "انتهت صلاحية الوحدة " + d.unit + "؛ لا يجوز «" + d.action + "».",
    incompatible: d => "الوحدة " + d.unit + " غير متوافقة مع فصيلة المريض؛ لا تُصرف له.",
    not_holder: d => "الوحدة " + d.unit + " ليست في حيازة هذا المرفق.",
    untested: d => "لم تكتمل فحوص الوحدة " + d.unit + " (الفصيلة والفحوص الإلزامية).",
    tti_positive: d => "فحص إيجابي لتبرع الوحدة " + d.unit + "؛ لا تُستخدم أبدًا.",
    recalled: d => "الوحدة " + d.unit + " مسترجعة (تتبّع رجعي)؛ لا تُستخدم.",
    blood_group_mismatch: d => "فصيلة الوحدة " + d.unit + " المفحوصة لا توافق ملصق الجمع.",
    unknown_unit: d => "لا يوجد سجل للوحدة " + d.unit + " في hemoledger.",
    label_expired: d => "يقول الملصق إن صلاحية الوحدة " + d.unit + " انتهت في " + d.label_expiry + "؛ لا يجوز «" + d.action + "».",
    label_group_mismatch: d => "الملصق يقول " + d.label_group + " لكن فصيلة الوحدة المفحوصة " + d.typed_group + ". لا تستخدمها وأبلغ عن التعارض.",
    label_expiry_mismatch: d => "تاريخ الانتهاء على الملصق " + d.label_expiry + " لا يوافق السجل " + d.record_expiry + ". لا تستخدمها وأبلغ عن التعارض.",
    label_special: d => "ملصق الفصيلة للوحدة " + d.unit + " يحمل رسالة خاصة (" + d.special + ")؛ لا يجوز «" + d.action + "».",
    labels_mixed: d => "اختلطت ملصقات وحدتين: أُلغيت الوحدة؛ امسح ملصقات وحدة واحدة من جديد.",
    unreadable_label: d => "تعذّرت قراءة الملصق «" + d.scan + "»؛ امسحه مرة أخرى.",
    legacy_label: d => "ملصق Codabar قديم؛ هذه المحطة تسجّل وحدات ISBT 128 فقط.",
    engine_unreachable: d => "تعذّر الوصول إلى المحرك: لم يُسجَّل شيء.",
    not_recorded: d => "لم يُسجَّل: تعذّر الوصول إلى كافكا.",
    pending: d => "وصل الحدث إلى كافكا ولم يؤكده المحرك بعد. لا تكرر العملية.",
    duplicate: d => "سُجّل هذا الحدث من قبل.",
    bad_station: d => "بيانات العملية ناقصة: أكمل فصيلة المريض أو الوجهة أو السبب.",
    wrong_facility: d => "رفض المحرك هذه المحطة لهذا المرفق؛ لم يُسجَّل شيء.",
    wrong_role: d => "رفض المحرك هذه المحطة؛ لم يُسجَّل شيء.",
    no_facility: d => "هذا الرمز لا يحدد مرفقًا؛ سجّل الدخول برمز محطة.",
    missing_token: d => "سجّل الدخول برمز المحطة.",
    unknown_token: d => "المحرك لا يعرف هذا الرمز.",
    unknown_facility: d => "المرفق غير معروف.",
  },
};
