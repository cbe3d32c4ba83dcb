// The explorer of agents/harness/explorer.py: one section, its data in a JSON <script> inside it.
(function () {
  const root = document.getElementById(__ROOT_ID__);
  const D = JSON.parse(root.querySelector('.mbx-data').textContent);
  const $ = (css) => root.querySelector(css);
  const suiteSel = $('.mbx-suite'), agentSel = $('.mbx-agent'), failBox = $('.mbx-fail');
  const slider = $('.mbx-step');
  const st = { suite: 0, agent: null, pos: 0 };
  const MOVES = { u: [-1, 0], r: [0, 1], d: [1, 0], l: [0, -1] };

  // "r,c" then u/r/d/l per unit move, "[r,c]" for any other step (explorer.encode_path)
  function decodePath(text) {
    if (!text) return [];
    let i = 0;
    while (i < text.length && '-0123456789,'.includes(text[i])) i++;
    let [r, c] = text.slice(0, i).split(',').map(Number);
    const cells = [[r, c]];
    while (i < text.length) {
      if (text[i] === '[') {
        const j = text.indexOf(']', i);
        [r, c] = text.slice(i + 1, j).split(',').map(Number);
        i = j + 1;
      } else {
        const m = MOVES[text[i]];
        r += m[0]; c += m[1]; i++;
      }
      cells.push([r, c]);
    }
    return cells;
  }

  // base64 of np.packbits(connections[2, R, C]): bit k, big-endian within each byte
  function bitReader(b64) {
    const s = atob(b64), bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    return (k) => (bytes[k >> 3] >> (7 - (k & 7))) & 1;
  }

  function options(sel, items) {
    sel.innerHTML = '';
    for (const [value, label] of items) {
      const o = document.createElement('option');
      o.value = value; o.textContent = label; sel.appendChild(o);
    }
  }

  const suite = () => D.suites[st.suite];
  const run = () => (D.runs[suite().name] || {})[st.agent] || null;
  const labelOf = (id) => (D.agents.find((a) => a.id === id) || { label: id }).label;
  const agentsHere = () => D.agents.filter((a) => (D.runs[suite().name] || {})[a.id]);
  function rows() {
    const r = run();
    if (!r) return [];
    return failBox.checked ? r.rows.filter((e) => !(e[1] & 2)) : r.rows;
  }

  // the maze (walls dark), origin green, target red, the path; illegal moves red and dashed
  function draw(canvas, shape, task, cells, color, markIllegal) {
    const [R, C] = shape, side = Math.max(R, C);
    const cell = Math.max(6, Math.floor(360 / side)), wall = Math.max(2, Math.floor(cell / 4));
    const pitch = cell + wall, conn = bitReader(task[0]);
    canvas.width = C * pitch + wall; canvas.height = R * pitch + wall;
    const g = canvas.getContext('2d');
    g.fillStyle = '#2b2b2b'; g.fillRect(0, 0, canvas.width, canvas.height);
    g.fillStyle = '#fff';
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
      const x = wall + c * pitch, y = wall + r * pitch;
      g.fillRect(x, y, cell, cell);
      if (r < R - 1 && conn(r * C + c)) g.fillRect(x, y + cell, cell, wall);
      if (c < C - 1 && conn(R * C + r * C + c)) g.fillRect(x + cell, y, wall, cell);
    }
    const centre = (k) => wall + k * pitch + cell / 2;
    const mark = (r, c, col) => {
      g.fillStyle = col;
      g.fillRect(wall + c * pitch + cell * .15, wall + r * pitch + cell * .15, cell * .7, cell * .7);
    };
    mark(task[1], task[2], '#3a3'); mark(task[3], task[4], '#d33');
    const inside = (p) => p[0] >= 0 && p[1] >= 0 && p[0] < R && p[1] < C;
    const legal = (a, b) => {
      const dr = b[0] - a[0], dc = b[1] - a[1];
      if (Math.abs(dr) + Math.abs(dc) !== 1 || !inside(a) || !inside(b)) return false;
      const r = Math.min(a[0], b[0]), c = Math.min(a[1], b[1]);
      return !!(dr ? conn(r * C + c) : conn(R * C + r * C + c));
    };
    g.lineCap = 'round'; g.lineJoin = 'round'; g.lineWidth = Math.max(2, cell / 5); g.globalAlpha = .75;
    let i = 1;
    while (i < cells.length) {  // one stroke per run of legal (or illegal) moves
      const ok = !markIllegal || legal(cells[i - 1], cells[i]);
      g.beginPath(); g.moveTo(centre(cells[i - 1][1]), centre(cells[i - 1][0]));
      while (i < cells.length && (!markIllegal || legal(cells[i - 1], cells[i])) === ok) {
        g.lineTo(centre(cells[i][1]), centre(cells[i][0])); i++;
      }
      g.strokeStyle = ok ? color : '#e11'; g.setLineDash(ok ? [] : [cell / 4, cell / 6]); g.stroke();
    }
    g.setLineDash([]); g.globalAlpha = 1;
    if (cells.length) {
      const end = cells[cells.length - 1];
      g.fillStyle = color; g.beginPath();
      g.arc(centre(end[1]), centre(end[0]), Math.max(3, cell / 5), 0, 2 * Math.PI); g.fill();
    }
  }

  function render() {
    const S = suite(), list = rows(), r = run(), n = list.length;
    if (st.pos >= n) st.pos = Math.max(0, n - 1);
    root.dataset.suite = S.name; root.dataset.agent = st.agent;
    $('.mbx-note').textContent = r ? `${S.name} / ${labelOf(st.agent)}: embedded ${r.rows.length} of ${r.n} tasks ` +
      `(the first ${D.caps.first}, then up to ${D.caps.failures} failures); ${r.failed} of ${r.n} failed (not a shortest path).` : '';
    if (!n) {
      root.dataset.index = ''; $('.mbx-pos').textContent = '0 / 0';
      $('.mbx-info').textContent = failBox.checked ? 'No failures among the embedded tasks.' : 'No tasks embedded.';
      for (const cv of [$('.mbx-cv-agent'), $('.mbx-cv-ref')]) { cv.width = 1; cv.height = 1; }
      return;
    }
    const e = list[st.pos], task = S.tasks[e[0]], cells = decodePath(e[2]);
    const ref = decodePath(e[3] || task[5]), key = `${S.name}/${st.agent}/${e[0]}`;
    if (root.dataset.shown !== key) {  // a new task: the slider shows its whole path
      slider.max = Math.max(0, cells.length - 1); slider.value = slider.max; root.dataset.shown = key;
    }
    root.dataset.index = e[0];
    $('.mbx-stepn').textContent = `${slider.value} of ${slider.max}`;
    $('.mbx-pos').textContent = `${st.pos + 1} / ${n}`;
    const moves = Math.max(0, cells.length - 1), shortest = decodePath(task[5]).length - 1;
    $('.mbx-info').textContent = `task #${e[0]} · ${e[1] & 2 ? 'exact' : 'not exact'} · ` +
      `${e[1] & 1 ? 'reached' : 'did not reach'} the target · ${moves} moves (shortest ${shortest})` +
      (e[4] ? ` · first invalid move: ${e[4]} at step ${e[5]}` : '');
    draw($('.mbx-cv-agent'), S.shape, task, cells.slice(0, +slider.value + 1), '#1f5fd1', true);
    draw($('.mbx-cv-ref'), S.shape, task, ref, '#e08a00', false);
  }

  function setSuite(i) {
    st.suite = i;
    const here = agentsHere();
    options(agentSel, here.map((a) => [a.id, a.label]));
    if (!here.some((a) => a.id === st.agent)) st.agent = here.length ? here[0].id : null;
    agentSel.value = st.agent; st.pos = 0; render();
  }
  function step(k) {
    const n = rows().length;
    if (n) { st.pos = (st.pos + k + n) % n; render(); }
  }

  options(suiteSel, D.suites.map((s, i) => [i, s.name]));
  suiteSel.onchange = () => setSuite(+suiteSel.value);
  agentSel.onchange = () => { st.agent = agentSel.value; st.pos = 0; render(); };
  failBox.onchange = () => { st.pos = 0; render(); };
  slider.oninput = () => render();
  $('.mbx-prev').onclick = () => step(-1);
  $('.mbx-next').onclick = () => step(1);
  root.addEventListener('keydown', (ev) => {
    if (ev.target.tagName === 'SELECT' || ev.target.type === 'range') return;
    if (ev.key === 'ArrowRight') { step(1); ev.preventDefault(); }
    if (ev.key === 'ArrowLeft') { step(-1); ev.preventDefault(); }
  });
  if (D.suites.length) setSuite(0);
  else $('.mbx-info').textContent = 'Nothing to explore: no predictions.';
})();
