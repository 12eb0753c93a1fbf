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
});
