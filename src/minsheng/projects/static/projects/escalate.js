// The escalation form asks for a due date only when the step is 限期办结 (time_limit).
// Without JavaScript the field simply stays visible; the server checks it either way.
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("escalate-form");
    if (!form) return;
    var step = form.querySelector("select[name=step]");
    var due = form.querySelector("input[name=due]");
    if (!step || !due) return;
    var field = due.closest(".field");
    function update() {
      var needed = step.value === "time_limit";
      if (field) field.hidden = !needed && !field.classList.contains("field-error");
      due.required = needed;
    }
    step.addEventListener("change", update);
    update();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
