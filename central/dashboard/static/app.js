// grainlink dashboard: plain ES module, no build step, no CDN. Every number comes from the
// /api/v1 endpoints with the user's token; the API enforces the scope.
const $ = (sel) => document.querySelector(sel);
const content = $("#content");
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const num = (v, d = 1) => (v === null || v === undefined ? "—" : Number(v).toFixed(d));
const local = (ts) => (ts ? new Date(ts).toLocaleString("zh-CN", {timeZone: "Asia/Shanghai", hour12: false}) : "—");
const RULES = {grain_temp_high: "粮温超限", grain_temp_mean_high: "平均粮温超限", hotspot: "局部发热",
  temp_rise: "粮温异常上升", condensation_risk: "结露风险", indoor_humidity_high: "仓湿过高",
  sensor_fault: "传感器故障", depot_offline: "库点离线", camera_offline: "摄像机离线",
  inspection_overdue: "检查超期", insect_treatment_overdue: "虫害处理超期", storage_accident: "储存事故（超耗）",
  stock_below_plan: "库存低于计划", shelf_life: "保质期", granary_over_capacity: "超设计仓容"};
const STATES = {active: "未处理", acknowledged: "已确认", cleared: "已解除", online: "在线", offline: "离线", unknown: "未知"};
const TYPES = {flat: "平房仓", squat_silo: "浅圆仓", silo: "立筒仓", warehouse: "楼房仓", tank: "油罐"};
const ADVICE = {start: "建议开始降温通风", continue: "可继续通风", stop: "建议停止通风", none: "暂不需通风", vetoed: "不宜通风"};
let timer = null;
let navigation = 0;  // a render of an earlier page that finishes late must not overwrite this one

function token() { return localStorage.getItem("grainlink-token"); }

async function api(path, options = {}) {
  const headers = {Authorization: `Bearer ${token()}`, ...(options.body ? {"Content-Type": "application/json"} : {})};
  const answer = await fetch(`/api/v1${path}`, {...options, headers});
  if (answer.status === 401) { showLogin("令牌无效或已撤销"); throw new Error("401"); }
  const body = answer.headers.get("content-type")?.includes("json") ? await answer.json() : await answer.text();
  if (!answer.ok) throw new Error(body?.detail ? JSON.stringify(body.detail) : `HTTP ${answer.status}`);
  return body;
}

function showLogin(message = "") {
  $("#login").hidden = false; content.innerHTML = ""; $("#logout").hidden = true;
  $("#login-error").textContent = message;
}

$("#login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  localStorage.setItem("grainlink-token", $("#token").value.trim());
  $("#login").hidden = true; route();
});
$("#logout").addEventListener("click", () => { localStorage.removeItem("grainlink-token"); showLogin(); });

// blue (cold) → green → red (hot), over the granary's own range
function colour(t, lo, hi) {
  const x = hi > lo ? Math.min(Math.max((t - lo) / (hi - lo), 0), 1) : 0.5;
  const hue = 240 - 240 * x;
  return `hsl(${hue.toFixed(0)}, 75%, ${x > 0.85 ? 55 : 70}%)`;
}

async function overview() {
  const mine = navigation;
  const [depots, alarms] = await Promise.all([api("/depots"), api("/alarms?state=open")]);
  const counts = {};
  for (const a of alarms) { counts[a.depot] ??= {alarm: 0, warning: 0}; counts[a.depot][a.severity] += 1; }
  let html = `<h2>库点总览</h2><table id="depots"><tr><th class="text">库点</th><th class="text">名称</th><th>行政区划</th>
    <th>状态</th><th>最后上报</th><th>仓房</th><th>报警</th><th>预警</th></tr>`;
  for (const d of depots) {
    const c = counts[d.depot] ?? {alarm: 0, warning: 0};
    html += `<tr data-depot="${esc(d.depot)}"><td class="text"><a href="#/depot/${encodeURIComponent(d.depot)}">${esc(d.depot)}</a></td>
      <td class="text">${esc(d.name)}</td><td>${esc(d.region)}</td><td class="state-${esc(d.state)}">${STATES[d.state] ?? esc(d.state)}</td>
      <td>${local(d.last_seen)}</td><td>${d.granaries}</td><td>${c.alarm ? `<span class="sev-alarm">${c.alarm}</span>` : 0}</td>
      <td>${c.warning ? `<span class="sev-warning">${c.warning}</span>` : 0}</td></tr>`;
  }
  html += "</table>";
  try {
    const plans = await api("/plans/stock");
    if (plans.length) {
      html += `<h3>储备计划与实物库存</h3><table><tr><th class="text">范围</th><th class="text">品种</th><th>计划 (t)</th><th>库存 (t)</th><th>缺口 (t)</th></tr>`;
      for (const p of plans) html += `<tr><td class="text">${esc(p.scope)}</td><td class="text">${esc(p.variety)}</td><td>${num(p.plan_t, 2)}</td><td>${num(p.stock_t, 2)}</td><td class="${p.below_plan ? "short" : ""}">${num(p.shortfall_t, 2)}</td></tr>`;
      html += "</table>";
    }
  } catch { /* no lots module or no plans: nothing to show */ }
  if (mine === navigation) content.innerHTML = html;
}

async function depotView(depot) {
  const d = await api(`/depots/${encodeURIComponent(depot)}`);
  let html = `<h2>${esc(d.name)}（${esc(d.depot)}）</h2><p>状态：<span class="state-${esc(d.state)}">${STATES[d.state] ?? esc(d.state)}</span>，最后上报 ${local(d.last_seen)}</p>
    <table><tr><th class="text">仓房</th><th class="text">名称</th><th class="text">仓型</th><th class="text">粮种</th><th class="text">储粮方式</th><th>测温电缆</th><th>仓容 (t)</th></tr>`;
  for (const g of d.granaries ?? []) {
    html += `<tr><td class="text"><a href="#/granary/${encodeURIComponent(d.depot)}/${encodeURIComponent(g.granary)}">${esc(g.granary)}</a></td>
      <td class="text">${esc(g.name)}</td><td class="text">${TYPES[g.type] ?? esc(g.type)}</td><td class="text">${esc(g.grain)}</td>
      <td class="text">${esc(g.storage_mode)}</td><td>${(g.cables ?? []).length}</td><td>${num(g.capacity_t, 0)}</td></tr>`;
  }
  content.innerHTML = html + "</table>";
}

function layerGrid(latest, layer, lo, hi) {
  const cables = latest.cables;
  const rows = Math.max(1, ...cables.map((c) => c.row ?? 1)), cols = Math.max(1, ...cables.map((c) => c.col ?? c.cable));
  const at = {};
  for (const c of cables) at[`${c.row ?? 1},${c.col ?? c.cable}`] = c;
  const stats = latest.layers.find((l) => l.layer === layer) ?? {};
  let html = `<div class="layer"><h4>第 ${layer} 层（最低 ${num(stats.min)} / 最高 ${num(stats.max)} / 平均 ${num(stats.mean)} ℃）</h4><table class="grid" data-layer="${layer}">`;
  for (let r = 1; r <= rows; r++) {
    html += "<tr>";
    for (let k = 1; k <= cols; k++) {
      const c = at[`${r},${k}`];
      if (!c) { html += `<td class="none"></td>`; continue; }
      const t = c.temps_c[layer - 1];
      if ((c.faults ?? []).includes(layer)) html += `<td class="fault" data-cable="${c.cable}" title="电缆 ${c.cable}">故障</td>`;
      else if (t === null || t === undefined) html += `<td class="none" data-cable="${c.cable}">—</td>`;
      else html += `<td data-cable="${c.cable}" data-temp="${t}" style="background:${colour(t, lo, hi)}" title="电缆 ${c.cable}">${num(t)}</td>`;
    }
    html += "</tr>";
  }
  return html + "</table></div>";
}

function chart(series, label, unit) {
  const W = 760, H = 200, P = 36;
  const all = series.flatMap((s) => s.points.map((p) => p.v)).filter((v) => v !== null && v !== undefined);
  if (!all.length) return `<p>${label}：所选时段无数据</p>`;
  const ts = series.flatMap((s) => s.points.map((p) => p.t));
  const t0 = Math.min(...ts), t1 = Math.max(...ts, t0 + 1), lo = Math.min(...all), hi = Math.max(...all, lo + 1);
  const x = (t) => P + (W - 2 * P) * (t - t0) / (t1 - t0), y = (v) => H - P + -(H - 2 * P) * (v - lo) / (hi - lo);
  let svg = `<svg class="chart" width="${W}" height="${H}"><text x="4" y="14" font-size="12">${label}（${unit}）</text>
    <text x="4" y="${P}" font-size="11">${num(hi)}</text><text x="4" y="${H - P}" font-size="11">${num(lo)}</text>`;
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p.v !== null && p.v !== undefined).map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
    svg += `<polyline fill="none" stroke="${s.colour}" stroke-width="1.5" points="${pts}"/><text x="${P + 110 * i}" y="${H - 8}" font-size="11" fill="${s.colour}">${s.name}</text>`;
  });
  return svg + "</svg>";
}

async function curves(depot, granary, hours) {
  const to = new Date(), from = new Date(to - hours * 3600e3);
  const bucket = hours <= 24 ? "raw" : hours <= 24 * 30 ? "1h" : "1d";
  const iso = (d) => d.toISOString().replace(/\.\d+Z$/, "Z");
  const h = await api(`/depots/${encodeURIComponent(depot)}/granaries/${encodeURIComponent(granary)}/history?from=${iso(from)}&to=${iso(to)}&bucket=${bucket}`);
  const pts = (list, key) => (list ?? []).map((b) => ({t: Date.parse(b.ts), v: b[key]}));
  return chart([
    {name: "粮温最高", colour: "#c0392b", points: pts(h.granary_stats, "max")},
    {name: "粮温平均", colour: "#e67e22", points: pts(h.granary_stats, "mean")},
    {name: "粮温最低", colour: "#2980b9", points: pts(h.granary_stats, "min")},
    {name: "仓温", colour: "#8e44ad", points: pts(h.indoor, "temp_c") },
    {name: "气温", colour: "#16a085", points: pts(h.outdoor, "temp_c")},
  ], "三温", "℃") + chart([
    {name: "仓湿", colour: "#8e44ad", points: pts(h.indoor, "rh_pct")},
    {name: "气湿", colour: "#16a085", points: pts(h.outdoor, "rh_pct")},
  ], "两湿", "%RH");
}

async function granaryView(depot, granary, hours = 24) {
  const base = `/depots/${encodeURIComponent(depot)}/granaries/${encodeURIComponent(granary)}`;
  const latest = await api(`${base}/latest`);
  const lo = latest.granary_stats?.min ?? 0, hi = latest.granary_stats?.max ?? 1;
  const layers = [...new Set(latest.layers.map((l) => l.layer))].sort((a, b) => a - b);
  const air = (a, name) => `<div class="card">${name}<br><b>${num(a?.temp_c)} ℃</b> · ${num(a?.rh_pct)} %RH<br>露点 ${num(a?.dew_point_c)} ℃</div>`;
  let html = `<h2><a href="#/depot/${encodeURIComponent(depot)}">${esc(depot)}</a> · ${esc(granary)} 粮情</h2>
    <p>检测时间 ${local(latest.ts)}</p><div class="cards">
    <div class="card">全仓粮温<br>最高 <b>${num(latest.granary_stats?.max)}</b> ℃<br>平均 ${num(latest.granary_stats?.mean)} ℃ · 最低 ${num(latest.granary_stats?.min)} ℃</div>
    ${air(latest.indoor, "仓温 / 仓湿")}${air(latest.outdoor, "气温 / 气湿")}</div><h3>分层粮温</h3>`;
  for (const layer of layers) html += layerGrid(latest, layer, lo, hi);
  for (const a of latest.advice ?? []) {
    if (a.kind === "cooling_ventilation") html += `<div class="advice">通风建议：${ADVICE[a.action] ?? esc(a.action)}（${esc(a.reason)}）</div>`;
    else if (a.kind === "equilibrium_moisture") html += `<div class="advice">仓内条件下粮食平衡水分：${num(a.emc_wb_pct)} %（湿基）</div>`;
  }
  html += `<h3>三温两湿曲线</h3><p><select id="period">${[[24, "近 1 天"], [168, "近 7 天"], [720, "近 30 天"]].map(([h, n]) => `<option value="${h}" ${h === hours ? "selected" : ""}>${n}</option>`).join("")}</select></p><div id="curves">加载中…</div><div id="still"></div>`;
  content.innerHTML = html;
  $("#period").addEventListener("change", (e) => granaryView(depot, granary, Number(e.target.value)));
  curves(depot, granary, hours).then((svg) => { $("#curves").innerHTML = svg; }).catch((e) => { $("#curves").textContent = `曲线不可用：${e.message}`; });
  stills(depot, granary).catch(() => { /* no cameras, or no still yet */ });
}

// The latest still of each camera of the granary (the image needs the token, so it is
// fetched as a blob rather than linked).
async function stills(depot, granary) {
  const layout = await api(`/depots/${encodeURIComponent(depot)}`);
  const cameras = (layout.cameras ?? []).filter((c) => c.granary === granary);
  for (const c of cameras) {
    const answer = await fetch(`/api/v1/depots/${encodeURIComponent(depot)}/cameras/${encodeURIComponent(c.camera)}/still`,
      {headers: {Authorization: `Bearer ${token()}`}});
    if (!answer.ok) continue;
    const url = URL.createObjectURL(await answer.blob());
    $("#still").insertAdjacentHTML("beforeend", `<h3>监控画面 ${esc(c.name ?? c.camera)}</h3><img alt="${esc(c.camera)}" src="${url}" width="480">`);
  }
}

async function alarmsView() {
  const state = $("#f-state")?.value ?? "open", depot = $("#f-depot")?.value ?? "", rule = $("#f-rule")?.value ?? "";
  const q = new URLSearchParams({state, ...(depot ? {depot} : {}), ...(rule ? {rule} : {})});
  const mine = navigation;
  const alarms = await api(`/alarms?${q}`);
  if (mine !== navigation) return;
  let html = `<h2>预警</h2><div class="filters">状态 <select id="f-state">${["open", "active", "acknowledged", "cleared"].map((s) => `<option value="${s}" ${s === state ? "selected" : ""}>${s === "open" ? "未解除" : STATES[s]}</option>`).join("")}</select>
    库点 <input id="f-depot" value="${esc(depot)}" size="14"> 规则 <select id="f-rule"><option value="">全部</option>${Object.entries(RULES).map(([k, v]) => `<option value="${k}" ${k === rule ? "selected" : ""}>${v}</option>`).join("")}</select>
    <button id="f-apply">筛选</button> <small>每 5 秒自动刷新</small></div>
    <table id="alarms"><tr><th>级别</th><th class="text">库点</th><th class="text">规则</th><th class="text">对象</th><th class="text">说明</th><th>状态</th><th>开始</th><th>更新</th><th>处置</th></tr>`;
  for (const a of alarms) {
    html += `<tr data-id="${a.id}" data-state="${a.state}"><td><span class="sev-${a.severity}">${a.severity === "alarm" ? "报警" : "预警"}</span></td>
      <td class="text">${esc(a.depot)}</td><td class="text">${RULES[a.rule] ?? esc(a.rule)}</td><td class="text">${esc(a.subject)}</td>
      <td class="text">${esc(a.message)}</td><td class="state">${STATES[a.state] ?? esc(a.state)}${a.acknowledged_by ? `（${esc(a.acknowledged_by)}）` : ""}</td>
      <td>${local(a.opened_at)}</td><td>${local(a.updated_at)}</td>
      <td>${a.state === "active" ? `<button class="ack" data-id="${a.id}">确认</button>` : ""}${a.state !== "cleared" ? ` <button class="act" data-id="${a.id}">记录处置</button>` : ""}</td></tr>`;
  }
  content.innerHTML = html + "</table>";
  $("#f-apply").addEventListener("click", () => alarmsView());
  for (const b of content.querySelectorAll("button.ack")) b.addEventListener("click", async () => {
    const note = prompt("确认说明（可留空）") ?? "";
    await api(`/alarms/${b.dataset.id}/ack`, {method: "POST", body: JSON.stringify({note})});
    alarmsView();
  });
  for (const b of content.querySelectorAll("button.act")) b.addEventListener("click", async () => {
    const kind = prompt("处置环节：plan（方案）/ approve（审批）/ execute（实施）/ result（结果）", "plan");
    if (!kind) return;
    const text = prompt("内容") ?? "";
    await api(`/alarms/${b.dataset.id}/actions`, {method: "POST", body: JSON.stringify({kind, text})});
    alarmsView();
  });
}

async function route() {
  clearInterval(timer);
  const mine = ++navigation;
  if (!token()) return showLogin();
  $("#login").hidden = true; $("#logout").hidden = false;
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  for (const a of document.querySelectorAll("nav a")) a.classList.remove("active");
  try {
    if (parts[0] === "alarms") { $("#nav-alarms").classList.add("active"); await alarmsView(); timer = setInterval(() => { if (!document.querySelector("#f-depot:focus")) alarmsView(); }, 5000); }
    else if (parts[0] === "depot") await depotView(parts[1]);
    else if (parts[0] === "granary") await granaryView(parts[1], parts[2]);
    else { $("#nav-overview").classList.add("active"); await overview(); timer = setInterval(overview, 10000); }
  } catch (e) {
    if (e.message !== "401" && mine === navigation) content.innerHTML = `<p class="error" id="failure">出错了：${esc(e.message)}</p>`;
  }
}

window.addEventListener("hashchange", route);
route();
