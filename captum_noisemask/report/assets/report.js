// The dataset report's grid: filters, sorting, paging, keyboard moves and the detail view.
// Everything it needs is in the page's JSON block; the pictures are sprite sheets on disk.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  if (data.kind !== "dataset") return;
  const items = data.items;
  const total = items.label.length;
  const tile = data.tile;
  const THUMB = 96, LARGE = 256;
  const $ = (id) => document.getElementById(id);
  const certified = items.masked.some((b) => b !== null);
  let order = [];
  let page = 0;
  let shown = -1; // position in `order` of the example the detail view shows

  const percent = (share) => `${(100 * share).toFixed(1)}%`;
  const bound = (b) => (b === null ? "not certified" : b.toFixed(3));
  const className = (c) => data.classes[c] ?? String(c);

  function sprite(element, kind, i, side) {
    const scale = side / Math.max(tile.height, tile.width);
    const width = tile.width * scale, height = tile.height * scale;
    const sheet = Math.floor(i / tile.per_sheet), cell = i % tile.per_sheet;
    const col = cell % tile.per_row, row = Math.floor(cell / tile.per_row);
    element.classList.add("sprite");
    element.style.width = `${width}px`;
    element.style.height = `${Math.max(height, 2)}px`;
    element.style.backgroundImage = `url("${tile.folder}/${kind}-${String(sheet).padStart(4, "0")}.png")`;
    element.style.backgroundSize = `${tile.per_row * width}px auto`;
    element.style.backgroundPosition = `${-col * width}px ${-row * height}px`;
  }

  function describe(i) {
    const parts = [`Example ${i}`, `true class ${className(items.label[i])}`,
      `predicted ${className(items.predicted[i])}`, `contributing area ${percent(items.area[i])}`];
    if (certified) parts.push(`certificate lower bound ${bound(items.masked[i])}`);
    return parts.join(", ");
  }

  function filters() {
    const number = (id, fallback) => {
      const value = parseFloat($(id).value);
      return Number.isFinite(value) ? value : fallback;
    };
    return {
      klass: $("f-class").value,
      correct: $("f-correct").value,
      areaMin: number("f-area-min", 0) / 100,
      areaMax: number("f-area-max", 100) / 100,
      boundBelow: certified ? number("f-bound", Infinity) : Infinity,
    };
  }

  function matches(i, f) {
    if (f.klass !== "" && items.label[i] !== Number(f.klass)) return false;
    const right = items.label[i] === items.predicted[i];
    if ((f.correct === "correct" && !right) || (f.correct === "wrong" && right)) return false;
    const area = items.area[i];
    // Areas are stored to 4 decimals: compare with the same rounding the inputs show.
    if (area < f.areaMin - 1e-9 || area > f.areaMax + 1e-9) return false;
    if (f.boundBelow !== Infinity && !(items.masked[i] !== null && items.masked[i] < f.boundBelow)) {
      return false;
    }
    return true;
  }

  const keys = {
    index: (i) => i,
    klass: (i) => items.label[i],
    "area-up": (i) => items.area[i],
    "area-down": (i) => -items.area[i],
    "bound-up": (i) => (items.masked[i] === null ? Infinity : items.masked[i]),
    "bound-down": (i) => (items.masked[i] === null ? Infinity : -items.masked[i]),
  };

  function apply() {
    const f = filters();
    order = [];
    for (let i = 0; i < total; i++) if (matches(i, f)) order.push(i);
    const key = keys[$("sort").value] || keys.index;
    order.sort((a, b) => key(a) - key(b) || a - b);
    page = 0;
    render();
  }

  function render() {
    const grid = $("grid");
    const pages = Math.max(1, Math.ceil(order.length / data.page_size));
    page = Math.min(page, pages - 1);
    const start = page * data.page_size;
    const stop = Math.min(order.length, start + data.page_size);
    const fragment = document.createDocumentFragment();
    for (let k = start; k < stop; k++) {
      const i = order[k];
      const right = items.label[i] === items.predicted[i];
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = right ? "tile" : "tile wrong";
      button.dataset.position = String(k);
      const thumb = document.createElement("span");
      thumb.setAttribute("role", "img");
      thumb.setAttribute("aria-label", describe(i));
      sprite(thumb, "overlay", i, THUMB);
      const caption = document.createElement("span");
      caption.className = "caption";
      const truth = className(items.label[i]), guess = className(items.predicted[i]);
      caption.textContent = `#${i} ${truth}${right ? "" : ` → ${guess}`} · ${percent(items.area[i])}`;
      if (!right) {
        const flag = document.createElement("span");
        flag.className = "flag";
        flag.textContent = " wrong";
        caption.append(flag);
      }
      if (certified) caption.append(document.createElement("br"), `bound ${bound(items.masked[i])}`);
      button.append(thumb, caption);
      item.append(button);
      fragment.append(item);
    }
    grid.replaceChildren(fragment);
    $("count").textContent = order.length === 0
      ? `No map matches these filters (${total} in all).`
      : `${order.length} of ${total} maps match; showing ${start + 1}–${stop}.`;
    $("page").textContent = `page ${page + 1} of ${pages}`;
    $("prev").disabled = page === 0;
    $("next").disabled = page >= pages - 1;
  }

  function columns(grid) {
    const tiles = grid.querySelectorAll(".tile");
    if (tiles.length === 0) return 1;
    const top = tiles[0].getBoundingClientRect().top;
    let count = 0;
    for (const t of tiles) {
      if (Math.abs(t.getBoundingClientRect().top - top) > 1) break;
      count++;
    }
    return Math.max(1, count);
  }

  function onGridKey(event) {
    const current = event.target.closest(".tile");
    if (!current) return;
    const tiles = Array.from($("grid").querySelectorAll(".tile"));
    const at = tiles.indexOf(current);
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns($("grid")),
      ArrowUp: -columns($("grid")), Home: -at, End: tiles.length - 1 - at }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    const next = tiles[Math.min(tiles.length - 1, Math.max(0, at + step))];
    next.focus();
  }

  function openDetail(position) {
    shown = position;
    const i = order[position];
    const right = items.label[i] === items.predicted[i];
    $("detail-title").textContent = `Example ${i}`;
    for (const kind of ["input", "map", "overlay"]) {
      const panel = $(`detail-${kind}`);
      sprite(panel, kind, i, LARGE);
      panel.setAttribute("aria-label", `${kind === "overlay" ? "map over the input" : kind} of example ${i}`);
    }
    const rows = [
      ["true class", className(items.label[i])],
      ["predicted class", `${className(items.predicted[i])}${right ? "" : " (wrong)"}`],
      ["explained class", className(items.target[i])],
      ["contributing area", percent(items.area[i])],
      ["certificate lower bound, masked network", bound(items.masked[i])],
      ["certificate lower bound, plain model", bound(items.plain[i])],
      ["convergence delta", items.delta[i] === null ? "none" : items.delta[i].toPrecision(3)],
    ];
    const body = $("detail-numbers");
    body.replaceChildren(...rows.map(([name, value]) => {
      const row = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = name;
      const td = document.createElement("td");
      td.textContent = value;
      row.append(th, td);
      return row;
    }));
    $("detail-prev").disabled = position === 0;
    $("detail-next").disabled = position >= order.length - 1;
    const dialog = $("detail");
    if (!dialog.open) dialog.showModal();
    $("detail-close").focus();
  }

  function step(by) {
    const next = shown + by;
    if (next < 0 || next >= order.length) return;
    const target = Math.floor(next / data.page_size);
    if (target !== page) { page = target; render(); }
    openDetail(next);
  }

  $("controls").addEventListener("input", apply);
  $("controls").addEventListener("change", apply); // a select may fire only this one
  $("controls").addEventListener("submit", (event) => event.preventDefault());
  $("prev").addEventListener("click", () => { page -= 1; render(); });
  $("next").addEventListener("click", () => { page += 1; render(); });
  $("grid").addEventListener("click", (event) => {
    const button = event.target.closest(".tile");
    if (button) openDetail(Number(button.dataset.position));
  });
  $("grid").addEventListener("keydown", onGridKey);
  $("detail-close").addEventListener("click", () => $("detail").close());
  $("detail-prev").addEventListener("click", () => step(-1));
  $("detail-next").addEventListener("click", () => step(1));
  $("detail").addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft") step(-1);
    if (event.key === "ArrowRight") step(1);
  });
  $("detail").addEventListener("close", () => {
    const button = $("grid").querySelector(`.tile[data-position="${shown}"]`);
    if (button) button.focus();
  });
  apply();
})();
