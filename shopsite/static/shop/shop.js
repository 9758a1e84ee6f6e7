/* Small progressive touches: every page works without this file. */
(function () {
  "use strict";

  // --- forms that must be sent once (checkout) ----------------------------

  function submitOnce(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitted === "true") {
        event.preventDefault();
        return;
      }
      form.dataset.submitted = "true";
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.dataset.idleLabel = button.textContent;
        if (button.dataset.busyLabel) button.textContent = button.dataset.busyLabel;
        button.classList.add("is-busy");
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
      });
    });
  }

  // Coming back with the Back button restores the page as it was left: busy.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll("button.is-busy").forEach(function (button) {
        button.textContent = button.dataset.idleLabel || button.textContent;
        button.classList.remove("is-busy");
        button.disabled = false;
        button.removeAttribute("aria-busy");
      });
    });
  });

  // --- the checkout: a saved address, or the fields of a new one ------------

  // Without this file every field shows, and the chosen radio button decides.
  function shipTo(group) {
    var fields = document.getElementById(group.dataset.shipTo);
    if (!fields) return;
    function show() {
      var chosen = group.querySelector("input[type=radio]:checked");
      fields.hidden = Boolean(chosen) && chosen.value !== "new";
    }
    group.addEventListener("change", show);
    show();
  }

  // --- the account menu closes like a menu --------------------------------

  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }

  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest("details.menu"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.menu[open]");
    if (open) {
      open.removeAttribute("open");
      open.querySelector("summary").focus();
    }
  });

  // --- the order page follows the order -----------------------------------

  var POLL_MS = 1000;
  var SLOW_POLL_MS = 5000;
  var MAX_POLL_MS = 8000;
  // Even when nothing seems to change, ask the page now and then: it knows
  // when the order has settled (an email may still be on its way).
  var RECHECK_EVERY = 15;
  var IN_FLIGHT = ["pending", "awaiting_payment"];

  // "fast" while messages are on their way, "slow" while staff may still ship
  // or deliver it, "none" once nothing more can happen.
  function watchMode() {
    var live = document.getElementById("order-live");
    return live ? live.dataset.watch : "none";
  }

  function signature(status, steps) {
    return status + "|" + steps;
  }

  function pageSignature() {
    var status = document.getElementById("order-status");
    var steps = document.querySelectorAll("#order-timeline > li").length;
    return signature(status ? status.dataset.status : "", steps);
  }

  function replaceFrom(doc, id) {
    var fresh = doc.getElementById(id);
    var current = document.getElementById(id);
    if (fresh && current) current.replaceWith(fresh);
    return fresh;
  }

  // The header's counts change too: the cart empties, an email arrives.
  function updateCounts(doc) {
    ["cart", "unread"].forEach(function (name) {
      var fresh = doc.querySelector('[data-count="' + name + '"]');
      if (!fresh) return;
      var zero = fresh.textContent.trim() === "0";
      document.querySelectorAll('[data-count="' + name + '"]').forEach(function (count) {
        count.textContent = fresh.textContent;
        count.classList.toggle("count--zero", zero && !count.hasAttribute("data-hide-zero"));
        if (count.hasAttribute("data-hide-zero")) count.hidden = zero;
      });
    });
  }

  // Fetch the page again and swap the parts that change.
  function refreshOrder() {
    var before = document.querySelectorAll("#order-timeline > li").length;
    return fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("page answered " + response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        replaceFrom(doc, "order-live");
        updateCounts(doc);
        document.querySelectorAll("#order-timeline > li").forEach(function (step, index) {
          if (index >= before) step.classList.add("timeline__step--new");
        });
      });
  }

  function watchOrder(live) {
    var apiUrl = live.dataset.apiUrl;
    var known = pageSignature();
    var failures = 0;
    var quiet = 0;

    function next() {
      var mode = watchMode();
      if (mode === "none") return;
      var delay = mode === "fast" ? POLL_MS : SLOW_POLL_MS;
      if (failures) delay = Math.min(delay * Math.pow(2, failures), MAX_POLL_MS);
      window.setTimeout(tick, document.hidden ? delay * 3 : delay);
    }

    function tick() {
      fetch(apiUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          // Logged out or gone: nothing more to follow.
          if (response.status === 401 || response.status === 403 || response.status === 404) return null;
          if (!response.ok) throw new Error("API answered " + response.status);
          return response.json();
        })
        .then(function (order) {
          if (order === null) return false;
          failures = 0;
          var seen = signature(order.status, (order.timeline || []).length);
          quiet = seen === known ? quiet + 1 : 0;
          var settled = IN_FLIGHT.indexOf(order.status) === -1;
          var recheck = watchMode() === "fast" && settled && quiet > 0 && quiet % RECHECK_EVERY === 0;
          if (seen === known && !recheck) return true;
          return refreshOrder().then(function () {
            known = pageSignature();
            return true;
          });
        })
        .then(function (keepGoing) {
          if (keepGoing) next();
        })
        .catch(function () {
          // The server or the network hiccupped: try again, less often.
          failures = Math.min(failures + 1, 3);
          next();
        });
    }

    next();
  }

  // A new order reaches the orders service a moment after checkout.
  function waitForOrder(box) {
    var apiUrl = box.dataset.apiUrl;
    var tries = 0;

    function tick() {
      tries += 1;
      fetch(apiUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.ok) {
            window.location.replace(window.location.pathname);
          } else if (tries < 60) {
            window.setTimeout(tick, POLL_MS);
          } else {
            box.querySelector("h1").textContent = "Order not found";
            box.querySelector("p").textContent = "We could not find this order in your account.";
            var spinner = box.querySelector(".spinner");
            if (spinner) spinner.remove();
          }
        })
        .catch(function () {
          window.setTimeout(tick, POLL_MS * 2);
        });
    }

    window.setTimeout(tick, 500);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-submit-once]").forEach(submitOnce);
    document.querySelectorAll("[data-ship-to]").forEach(shipTo);
    var live = document.getElementById("order-live");
    if (live) watchOrder(live);
    var waiting = document.querySelector("#order-waiting[data-wait]");
    if (waiting) waitForOrder(waiting);
  });
})();
