// The designers' BPMN modeler (/admin/processes/modeler): bpmn-js (vendored, see
// vendor/bpmn-js/README.md) plus a small properties panel for what the engine reads from a
// diagram (engine/runtime.py, engine/specs.py): spiffworkflow:properties such as the form
// files, orgVariable, status and validator; pre/post scripts; script tasks, conditions, timers.
// Validate and deploy post the edited XML as JSON; problems are marked on their elements.
(function () {
  "use strict";

  var SPIFF = {
    name: "SpiffWorkflow",
    uri: "http://spiffworkflow.org/bpmn/schema/1.0/core",
    prefix: "spiffworkflow",
    xml: { tagAlias: "lowerCase" },
    types: [
      {
        name: "Properties",
        superClass: ["Element"],
        properties: [{ name: "properties", type: "Property", isMany: true }],
      },
      {
        name: "Property",
        superClass: ["Element"],
        properties: [
          { name: "name", type: "String", isAttr: true },
          { name: "value", type: "String", isAttr: true },
        ],
      },
      {
        name: "PreScript",
        superClass: ["Element"],
        properties: [{ name: "value", type: "String", isBody: true }],
      },
      {
        name: "PostScript",
        superClass: ["Element"],
        properties: [{ name: "value", type: "String", isBody: true }],
      },
    ],
  };
  var PROPS = "spiffworkflow:Properties";
  var ROLE_LANES = ["applicant", "unit", "reviewer", "platform", "expert"];
  // Properties with a field of their own, by element kind; the rest are listed as 其他属性.
  var USER_TASK_FIELDS = [
    { key: "formJsonSchemaFilename", label: "表单文件（JSON Schema）", kind: "form", hint: "必填：bpmn/forms 中的 .schema.json 文件" },
    { key: "formUiSchemaFilename", label: "界面文件（UI Schema）", kind: "form" },
    { key: "orgVariable", label: "办理单位变量（orgVariable）", kind: "text", hint: "流程数据中办理单位编号所在的变量；申报人泳道以外的环节必填" },
    { key: "userVariable", label: "办理人（userVariable）", kind: "code", hint: "个人任务（如专家投票）：流程数据中办理人账号编号所在的变量或表达式" },
    { key: "status", label: "申报状态（表达式）", kind: "code", hint: "Python 表达式，例如 \"unit_review\"" },
    { key: "validator", label: "校验器（validator）", kind: "text", hint: "多个用空格分隔" },
    { key: "prefill", label: "预填上次提交的内容（prefill）", kind: "bool" },
  ];
  var BOUNDARY_FIELDS = [
    { key: "withdrawBy", label: "可撤回的一方（withdrawBy）", kind: "choice", choices: ["", "applicant", "unit"] },
    { key: "withdrawWhen", label: "撤回的附加条件（withdrawWhen）", kind: "code" },
  ];
  var TIMER_FIELDS = [{ key: "status", label: "等待时的申报状态（表达式）", kind: "code" }];
  var TIMER_KINDS = [["timeDate", "到期时间（timeDate）"], ["timeDuration", "等待时长（timeDuration）"], ["timeCycle", "循环（timeCycle）"]];
  var ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
  var HTTP_MESSAGES = {
    400: "请求未被接受（页面可能已过期），请刷新页面后重试",
    401: "登录已失效，请重新登录",
    403: "无权执行此操作：只有流程设计人员和平台管理员可以校验和发布流程",
    413: "流程图过大，无法提交",
    429: "操作过于频繁，请稍后再试",
  };

  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") el.textContent = attrs[name];
      else if (name === "class") el.className = attrs[name];
      else if (attrs[name] !== undefined && attrs[name] !== null && attrs[name] !== false) el.setAttribute(name, attrs[name] === true ? "" : attrs[name]);
    });
    (children || []).forEach(function (child) {
      if (child) el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return el;
  }

  function is(bo, type) {
    return bo && typeof bo.$instanceOf === "function" && bo.$instanceOf(type);
  }

  function start(root) {
    var status = document.getElementById("modeler-status");
    var panel = document.getElementById("modeler-panel");
    var problemsBox = document.getElementById("modeler-problems");
    var forms = JSON.parse(root.dataset.forms || "[]");
    var base = root.dataset.baseProcess
      ? { process_id: root.dataset.baseProcess, version: parseInt(root.dataset.baseVersion, 10) }
      : null;
    var modeler = new window.BpmnJS({
      container: document.getElementById("modeler-canvas"),
      moddleExtensions: { spiffworkflow: SPIFF },
    });
    var modeling = modeler.get("modeling");
    var moddle = modeler.get("moddle");
    var registry = modeler.get("elementRegistry");
    var canvas = modeler.get("canvas");
    var overlays = modeler.get("overlays");
    var selection = modeler.get("selection");
    var dirty = false;
    var busy = false;
    var marked = [];
    var shown = null;

    function say(text, kind) {
      status.textContent = text;
      status.className = "modeler-status" + (kind ? " " + kind : "");
    }

    // ----- reading and writing the extension elements ----------------------------------
    function extValues(bo, type) {
      var ext = bo.get("extensionElements");
      return ext ? ext.get("values").filter(function (v) { return v.$type === type; }) : [];
    }
    function properties(bo) {
      var container = extValues(bo, PROPS)[0];
      return container ? container.get("properties") : [];
    }
    function property(bo, name) {
      var found = properties(bo).filter(function (p) { return p.name === name; })[0];
      return found ? found.value || "" : "";
    }
    function ensureExt(element, bo) {
      var ext = bo.get("extensionElements");
      if (!ext) {
        ext = moddle.create("bpmn:ExtensionElements", { values: [] });
        ext.$parent = bo;
        modeling.updateModdleProperties(element, bo, { extensionElements: ext });
      }
      return ext;
    }
    function addExt(element, bo, child) {
      var ext = ensureExt(element, bo);
      child.$parent = ext;
      modeling.updateModdleProperties(element, ext, { values: ext.get("values").concat([child]) });
    }
    function removeExt(element, bo, child) {
      var ext = bo.get("extensionElements");
      modeling.updateModdleProperties(element, ext, {
        values: ext.get("values").filter(function (v) { return v !== child; }),
      });
    }
    function setProperty(element, bo, name, value) {
      var container = extValues(bo, PROPS)[0];
      var existing = container && container.get("properties").filter(function (p) { return p.name === name; })[0];
      if (value === "") {
        if (existing) {
          modeling.updateModdleProperties(element, container, {
            properties: container.get("properties").filter(function (p) { return p !== existing; }),
          });
        }
        return;
      }
      if (existing) {
        modeling.updateModdleProperties(element, existing, { value: value });
        return;
      }
      if (!container) {
        container = moddle.create(PROPS, { properties: [] });
        addExt(element, bo, container);
      }
      var created = moddle.create("spiffworkflow:Property", { name: name, value: value });
      created.$parent = container;
      modeling.updateModdleProperties(element, container, { properties: container.get("properties").concat([created]) });
    }
    function setScript(element, bo, type, text) {
      var existing = extValues(bo, type)[0];
      if (!text) {
        if (existing) removeExt(element, bo, existing);
      } else if (existing) {
        modeling.updateModdleProperties(element, existing, { value: text });
      } else {
        addExt(element, bo, moddle.create(type, { value: text }));
      }
    }
    function expression(text) {
      return text ? moddle.create("bpmn:FormalExpression", { body: text }) : undefined;
    }

    // ----- the properties panel ------------------------------------------------------------
    function field(spec, value, apply) {
      var id = "prop-" + spec.key;
      var control;
      if (spec.kind === "bool") {
        control = h("input", { type: "checkbox", id: id, checked: value === "true" });
        control.addEventListener("change", function () { apply(control.checked ? "true" : ""); });
        return h("div", { class: "field" }, [h("label", { class: "check", for: id }, [control, spec.label])]);
      }
      if (spec.kind === "code") {
        control = h("textarea", { id: id, rows: spec.rows || 3, class: "code", spellcheck: "false" });
        control.value = value;
      } else if (spec.kind === "choice") {
        control = h("select", { id: id }, spec.choices.map(function (c) {
          return h("option", { value: c, selected: c === value, text: c || "（无）" });
        }));
      } else {
        control = h("input", { type: "text", id: id, list: spec.kind === "form" ? "modeler-forms" : spec.list, autocomplete: "off" });
        control.value = value;
      }
      if (spec.readonly) control.readOnly = true;
      control.addEventListener("change", function () { apply(control.value.trim()); });
      return h("div", { class: "field" }, [
        h("label", { for: id, text: spec.label }),
        control,
        spec.hint ? h("p", { class: "hint", text: spec.hint }) : null,
        h("p", { class: "field-error", id: id + "-error", role: "alert" }),
      ]);
    }
    function fail(key, message) {
      var box = document.getElementById("prop-" + key + "-error");
      if (box) box.textContent = message;
    }
    function changeId(element, bo, value) {
      if (value === bo.id) return;
      if (!ID_PATTERN.test(value)) {
        fail("id", "编号须以字母或下划线开头，只含字母、数字、下划线、点和连字符");
      } else if (registry.get(value) || (moddle.ids && moddle.ids.assigned(value))) {
        fail("id", "编号 " + value + " 已被其他元素使用");
      } else if (element.businessObject === bo) {
        modeling.updateProperties(element, { id: value });
      } else {
        modeling.updateModdleProperties(element, bo, { id: value });
      }
    }
    function extensionFields(element, bo, specs) {
      return specs.map(function (spec) {
        return field(spec, property(bo, spec.key), function (v) { setProperty(element, bo, spec.key, v); });
      });
    }
    function otherProperties(element, bo, taken) {
      var rows = properties(bo).filter(function (p) { return taken.indexOf(p.name) === -1; });
      var list = h("div", { class: "other-props", id: "prop-others" }, rows.map(function (p) {
        var name = h("input", { type: "text", value: p.name, "aria-label": "属性名" });
        var value = h("input", { type: "text", value: p.value || "", "aria-label": "属性值" });
        var remove = h("button", { type: "button", class: "small secondary", text: "删除" });
        name.addEventListener("change", function () {
          if (name.value.trim()) modeling.updateModdleProperties(element, p, { name: name.value.trim() });
        });
        value.addEventListener("change", function () { modeling.updateModdleProperties(element, p, { value: value.value }); });
        remove.addEventListener("click", function () { setProperty(element, bo, p.name, ""); });
        return h("div", { class: "other-prop" }, [name, value, remove]);
      }));
      var newName = h("input", { type: "text", id: "prop-new-name", placeholder: "属性名", "aria-label": "新属性名" });
      var newValue = h("input", { type: "text", id: "prop-new-value", placeholder: "值", "aria-label": "新属性值" });
      var add = h("button", { type: "button", class: "small", text: "添加" });
      add.addEventListener("click", function () {
        var key = newName.value.trim();
        if (!key || !newValue.value) return;
        setProperty(element, bo, key, newValue.value);
      });
      return h("fieldset", {}, [h("legend", { text: "其他属性（spiffworkflow:property）" }), list, h("div", { class: "other-prop" }, [newName, newValue, add])]);
    }
    function processOf(element) {
      var bo = element.businessObject;
      if (is(bo, "bpmn:Participant")) return bo.processRef;
      if (is(bo, "bpmn:Process")) return bo;
      var defs = modeler.getDefinitions();
      var found = (defs ? defs.get("rootElements") : []).filter(function (r) { return is(r, "bpmn:Process") && r.isExecutable; });
      return found[0] || null;
    }
    function processFields(element, proc) {
      return [
        h("h3", { text: "流程" }),
        field({ key: "process-id", label: "流程编号（发布的文件名为 编号.bpmn）" }, proc.id, function (v) {
          fail("process-id", "");
          if (!ID_PATTERN.test(v)) fail("process-id", "编号须以字母或下划线开头，只含字母、数字、下划线、点和连字符");
          else if (v !== proc.id) modeling.updateModdleProperties(element, proc, { id: v });
        }),
        field({ key: "process-name", label: "流程名称" }, proc.name || "", function (v) {
          modeling.updateModdleProperties(element, proc, { name: v || undefined });
        }),
      ];
    }
    function render(element) {
      var root = canvas.getRootElement();
      element = element || root;
      shown = element;
      var bo = element && element.businessObject;
      if (!bo) return;
      var parts = [];
      var isRoot = element === root || is(bo, "bpmn:Participant");
      if (!isRoot || is(bo, "bpmn:Participant")) {
        parts.push(h("h3", { text: kindName(bo) }));
        var lane = is(bo, "bpmn:Lane");
        parts.push(field(
          { key: "id", label: lane ? "编号（id，决定办理角色）" : "编号（id）", list: lane ? "modeler-lanes" : null,
            hint: lane ? "用户任务所在泳道的编号决定由谁办理：" + ROLE_LANES.map(function (r) { return "lane_" + r; }).join(" / ") : null },
          bo.id, function (v) { fail("id", ""); changeId(element, bo, v); }));
        parts.push(field(
          { key: "name", label: lane ? "泳道名称（图上显示，如 用人单位）" : "名称" },
          bo.name || "",
          function (v) { modeling.updateLabel(element, v || null); }
        ));
      }
      var proc = isRoot ? processOf(element) : null;
      if (proc) parts = parts.concat(processFields(element, proc));
      var taken = [];
      if (is(bo, "bpmn:UserTask")) {
        parts = parts.concat(extensionFields(element, bo, USER_TASK_FIELDS));
        taken = USER_TASK_FIELDS.map(function (s) { return s.key; });
      }
      if (is(bo, "bpmn:ScriptTask")) {
        parts.push(field({ key: "script", label: "脚本（Python）", kind: "code", rows: 6 }, bo.script || "", function (v) {
          modeling.updateProperties(element, { script: v || undefined });
        }));
      }
      if (is(bo, "bpmn:SequenceFlow")) {
        var cond = bo.conditionExpression;
        parts.push(field({ key: "condition", label: "条件（Python 表达式）", kind: "code", hint: "从排他网关出发的分支需要条件" }, cond ? cond.body || "" : "", function (v) {
          modeling.updateProperties(element, { conditionExpression: expression(v) });
        }));
      }
      var timer = (bo.eventDefinitions || []).filter(function (d) { return is(d, "bpmn:TimerEventDefinition"); })[0];
      if (timer) parts = parts.concat(timerFields(element, timer));
      if (timer && !is(bo, "bpmn:BoundaryEvent")) {
        parts = parts.concat(extensionFields(element, bo, TIMER_FIELDS));
        taken = taken.concat(TIMER_FIELDS.map(function (s) { return s.key; }));
      }
      if (is(bo, "bpmn:BoundaryEvent")) {
        parts = parts.concat(extensionFields(element, bo, BOUNDARY_FIELDS));
        taken = taken.concat(BOUNDARY_FIELDS.map(function (s) { return s.key; }));
      }
      if (is(bo, "bpmn:Activity")) {
        parts.push(field({ key: "preScript", label: "前置脚本（preScript，环节开始前运行）", kind: "code" }, scriptOf(bo, "spiffworkflow:PreScript"), function (v) {
          setScript(element, bo, "spiffworkflow:PreScript", v);
        }));
        parts.push(field({ key: "postScript", label: "后置脚本（postScript，环节完成后运行）", kind: "code" }, scriptOf(bo, "spiffworkflow:PostScript"), function (v) {
          setScript(element, bo, "spiffworkflow:PostScript", v);
        }));
      }
      if (is(bo, "bpmn:FlowNode")) parts.push(otherProperties(element, bo, taken));
      var lists = [
        h("datalist", { id: "modeler-forms" }, forms.map(function (f) { return h("option", { value: f }); })),
        h("datalist", { id: "modeler-lanes" }, ROLE_LANES.map(function (f) { return h("option", { value: "lane_" + f }); })),
      ];
      panel.replaceChildren.apply(panel, [h("h2", { text: "属性" })].concat(parts, lists));
      panel.dataset.element = bo.id;
    }
    function scriptOf(bo, type) {
      var found = extValues(bo, type)[0];
      return found ? found.value || "" : "";
    }
    function timerFields(element, timer) {
      var kind = TIMER_KINDS.filter(function (k) { return timer.get(k[0]); })[0] || TIMER_KINDS[0];
      var current = timer.get(kind[0]);
      return [field({ key: "timer", label: "定时表达式：" + kind[1], kind: "code", hint: "Python 表达式，由引擎计算" }, current ? current.body || "" : "", function (v) {
        var change = {};
        change[kind[0]] = expression(v);
        modeling.updateModdleProperties(element, timer, change);
      })];
    }
    function kindName(bo) {
      var names = {
        "bpmn:UserTask": "用户任务", "bpmn:ScriptTask": "脚本任务", "bpmn:Task": "任务",
        "bpmn:ServiceTask": "服务任务", "bpmn:ExclusiveGateway": "排他网关", "bpmn:ParallelGateway": "并行网关",
        "bpmn:StartEvent": "开始事件", "bpmn:EndEvent": "结束事件", "bpmn:BoundaryEvent": "边界事件",
        "bpmn:IntermediateCatchEvent": "中间捕获事件", "bpmn:IntermediateThrowEvent": "中间抛出事件",
        "bpmn:SequenceFlow": "顺序流", "bpmn:Lane": "泳道", "bpmn:Participant": "池",
        "bpmn:SubProcess": "子流程", "bpmn:CallActivity": "调用活动",
      };
      return names[bo.$type] || bo.$type.replace("bpmn:", "");
    }
    function rerender() {
      var focused = document.activeElement && panel.contains(document.activeElement) ? document.activeElement.id : null;
      var element = shown && registry.get(shown.id) ? registry.get(shown.id) : null;
      render(element);
      if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    }

    // ----- problems on the diagram -------------------------------------------------------------
    function focusOn(el) {
      canvas.zoom(1);
      var box = canvas.viewbox();
      canvas.viewbox({ x: el.x + el.width / 2 - box.width / 2, y: el.y + el.height / 2 - box.height / 2, width: box.width, height: box.height });
      selection.select(el);
    }
    function clearProblems() {
      overlays.remove({ type: "problem" });
      marked.forEach(function (id) { if (registry.get(id)) canvas.removeMarker(id, "has-problem"); });
      marked = [];
      problemsBox.hidden = true;
    }
    function showProblems(problems, summary) {
      clearProblems();
      var rows = document.getElementById("modeler-problem-rows");
      var byElement = {};
      problems.forEach(function (p) {
        if (registry.get(p.element)) (byElement[p.element] = byElement[p.element] || []).push(p.message);
      });
      Object.keys(byElement).forEach(function (id) {
        canvas.addMarker(id, "has-problem");
        marked.push(id);
        overlays.add(id, "problem", {
          position: { top: -10, left: -10 },
          html: h("span", { class: "problem-badge", title: byElement[id].join("\n"), "data-element": id, text: "! " + byElement[id].length }),
        });
      });
      rows.replaceChildren.apply(rows, problems.map(function (p) {
        var where = (p.file || "-") + ":" + (p.line === null || p.line === undefined ? "—" : p.line);
        var onDiagram = !!registry.get(p.element);
        var row = h("tr", { "data-element": p.element, class: onDiagram ? "on-diagram" : "" }, [
          h("td", { class: "nowrap", text: where }),
          h("td", {}, [h("code", { text: p.element })]),
          h("td", { class: "prewrap", text: p.message }),
        ]);
        if (onDiagram) {
          row.title = "点击在流程图中定位";
          row.addEventListener("click", function () {
            var el = registry.get(p.element);
            if (el) focusOn(el);
          });
        }
        return row;
      }));
      document.getElementById("modeler-problems-summary").textContent = summary;
      problemsBox.hidden = problems.length === 0;
    }

    // ----- validate, deploy, download ----------------------------------------------------------
    // Unchanged since it was opened (or deployed): send the stored text itself, so deploying
    // it again is recognised as the same content rather than bpmn-js's re-serialisation.
    var pristine = document.getElementById("modeler-source").value;
    var sent = null;
    function post(op) {
      var xml = dirty ? modeler.saveXML({ format: true }) : Promise.resolve({ xml: pristine });
      return xml.then(function (saved) {
        sent = saved.xml;
        return fetch(root.dataset.endpoint, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf, Accept: "application/json" },
          body: JSON.stringify({ op: op, xml: saved.xml, base: base }),
        });
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.redirected && response.url.indexOf("/login") !== -1) throw new Error(HTTP_MESSAGES[401]);
        if (type.indexOf("application/json") === -1) {
          throw new Error(HTTP_MESSAGES[response.status] || "服务器出错（" + response.status + "），请稍后再试");
        }
        return response.json();
      });
    }
    function run(op) {
      if (busy) return;
      busy = true;
      say(op === "deploy" ? "正在发布…" : "正在校验…");
      post(op).then(function (reply) {
        if (!reply.ok) {
          showProblems(reply.problems || [], reply.error || "发现 " + reply.problems.length + " 个问题");
          say((reply.error || "发现 " + reply.problems.length + " 个问题") + (op === "deploy" ? "，未发布" : ""), "error");
          return;
        }
        clearProblems();
        if (op === "validate") {
          say("校验通过，可以发布。", "ok");
          return;
        }
        deployed(reply.versions || []);
      }).catch(function (err) {
        say(err.message || String(err), "error");
      }).then(function () { busy = false; });
    }
    function deployed(rows) {
      var row = rows[0];
      if (!row) { say("没有发布任何流程", "error"); return; }
      dirty = false;
      pristine = sent;
      base = { process_id: row.process_id, version: row.version };
      var origin = document.getElementById("modeler-origin");
      origin.textContent = origin.textContent.replace(/基于第 \d+ 版/, "基于第 " + row.version + " 版");
      var link = h("a", { href: root.dataset.versionsUrl + "#process-" + row.process_id, text: "查看流程定义", id: "modeler-versions-link" });
      var text = row.created
        ? "已发布第 " + row.version + " 版（当前版本），新发起的流程将使用该版本。"
        : row.current
          ? "内容未变化，未产生新版本（仍为第 " + row.version + " 版）。"
          : "与已有的第 " + row.version + " 版相同，未产生新版本；该版本不是当前版本，如需改用它，请在流程定义页「设为当前版本」。";
      status.replaceChildren(h("span", { id: "modeler-deployed", "data-version": row.version, text: text }), " ", link);
      status.className = "modeler-status " + (row.created ? "ok" : "");
    }
    function download() {
      modeler.saveXML({ format: true }).then(function (saved) {
        var proc = processOf(canvas.getRootElement());
        var a = h("a", { href: URL.createObjectURL(new Blob([saved.xml], { type: "application/xml" })), download: (proc ? proc.id : "diagram") + ".bpmn" });
        document.body.appendChild(a);
        a.click();
        a.remove();
      });
    }

    // 查找元素: a large diagram opens small; pick an element by name or id to select it.
    var find = document.getElementById("modeler-find");
    function fillFind() {
      var options = registry.filter(function (el) {
        return el.businessObject && is(el.businessObject, "bpmn:FlowElement") && !el.labelTarget && el.type !== "label";
      }).map(function (el) {
        var bo = el.businessObject;
        return h("option", { value: bo.id, label: bo.name ? bo.name + "（" + bo.id + "）" : bo.id });
      });
      var list = document.getElementById("modeler-elements");
      list.replaceChildren.apply(list, options);
    }
    find.addEventListener("change", function () {
      var wanted = find.value.trim();
      var el = registry.get(wanted) || registry.filter(function (e) {
        return e.businessObject && e.businessObject.name === wanted && !e.labelTarget;
      })[0];
      if (!el) { say("没有名称或编号为「" + wanted + "」的元素", "error"); return; }
      focusOn(el);
    });

    document.getElementById("modeler-validate").addEventListener("click", function () { run("validate"); });
    document.getElementById("modeler-deploy").addEventListener("click", function () { run("deploy"); });
    document.getElementById("modeler-download").addEventListener("click", download);
    document.getElementById("modeler-version").addEventListener("change", function (event) {
      window.location.href = event.target.value;
    });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
    modeler.on("selection.changed", function (event) { render(event.newSelection.length === 1 ? event.newSelection[0] : null); });
    modeler.on("commandStack.changed", function () {
      dirty = true;
      say("有未发布的修改");
      fillFind();
      rerender();
    });

    modeler.importXML(document.getElementById("modeler-source").value).then(function (result) {
      // Fit the diagram, leaving room on the left for the palette that floats over it.
      canvas.zoom("fit-viewport");
      var box = canvas.viewbox();
      var pad = 130 / box.scale;
      canvas.viewbox({ x: box.x - pad, y: box.y - pad / 4, width: box.width + pad * 1.2, height: box.height + pad / 2 });
      render(null);
      fillFind();
      var origin = document.getElementById("modeler-origin").textContent.trim();
      var warnings = result.warnings || [];
      say("已打开：" + origin + (warnings.length ? "（载入时有 " + warnings.length + " 条提示，部分内容可能未显示）" : ""));
      root.dataset.ready = "true";
    }).catch(function (err) {
      say("流程图无法打开：" + (err.message || err), "error");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector(".modeler");
    if (!root) return;
    if (!window.BpmnJS) {
      document.getElementById("modeler-status").textContent = "流程编辑器未能载入（缺少 bpmn-js 文件）";
      return;
    }
    start(root);
  });
})();
