// Conveniences only: every page also works without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  // "增加一行": copy the table's <template> row with the next free index.
  document.querySelectorAll("button.add-row").forEach(function (button) {
    button.addEventListener("click", function () {
      var fieldset = button.closest("fieldset");
      var template = fieldset.querySelector("template");
      var next = parseInt(button.dataset.next, 10);
      var html = template.innerHTML.split("[__i__]").join("[" + next + "]");
      fieldset.querySelector("tbody").insertAdjacentHTML("beforeend", html);
      button.dataset.next = String(next + 1);
    });
  });
  // "全选": tick or untick every row checkbox of the same form.
  document.querySelectorAll("input.select-all").forEach(function (box) {
    box.addEventListener("change", function () {
      var name = box.dataset.target || "task_ids";
      box.form.querySelectorAll("input[name='" + name + "']").forEach(function (item) {
        item.checked = box.checked;
      });
    });
  });
  // 系列 → 级别 → 专业: offer only the combinations of the committee catalogue.
  var filing = document.getElementById("filing");
  if (filing && filing.dataset.options) {
    var options = JSON.parse(filing.dataset.options);
    var fill = function (select, names) {
      var keep = select.value;
      select.innerHTML = "";
      [""].concat(names).forEach(function (name) {
        var option = document.createElement("option");
        option.value = name;
        option.textContent = name || "请选择";
        option.selected = name === keep;
        select.appendChild(option);
      });
    };
    var series = filing.querySelector("#series");
    var level = filing.querySelector("#level");
    var specialty = filing.querySelector("#specialty");
    var cascade = function () {
      var levels = options[series.value] || {};
      fill(level, Object.keys(levels));
      fill(specialty, levels[level.value] || []);
    };
    series.addEventListener("change", cascade);
    level.addEventListener("change", cascade);
    cascade();
  }
  // Fields that belong to one choice (JSON Schema if/then, e.g. 退回原因 with 退回) show only
  // with it; hidden ones are disabled so they are not sent. Without JavaScript all show.
  document.querySelectorAll("[data-show-when]").forEach(function (box) {
    var rules = JSON.parse(box.dataset.showWhen);
    var form = box.closest("form");
    var current = function (name) {
      var picked = form.querySelector("[name='" + name + "']:checked");
      if (picked) { return picked.value; }
      var control = form.querySelector("select[name='" + name + "']");
      return control ? control.value : null;
    };
    var update = function () {
      var shown = rules.some(function (rule) { return current(rule[0]) === String(rule[1]); });
      box.hidden = !shown;
      box.querySelectorAll("input, textarea, select").forEach(function (control) {
        control.disabled = !shown;
      });
    };
    form.addEventListener("change", update);
    update();
  });
});
