// Check-in page: when the activity has a geofence, fill the phone's position into the form before it is sent.
// (The kiosk's QR code itself rotates with htmx polling; no script is needed there.)
(function () {
  "use strict";
  var form = document.getElementById("checkin-form");
  if (!form || !form.dataset.geofence) return;
  var status = form.querySelector("[data-geo-status]");
  var button = form.querySelector("button[type=submit]");
  function say(text) { if (status) status.textContent = text; }
  if (!navigator.geolocation) { say("此设备无法定位 / This device cannot share its position."); return; }
  button.disabled = true;
  navigator.geolocation.getCurrentPosition(
    function (pos) {
      form.elements.lat.value = pos.coords.latitude.toFixed(6);
      form.elements.lng.value = pos.coords.longitude.toFixed(6);
      say("已定位 / Position found (±" + Math.round(pos.coords.accuracy) + " m)");
      button.disabled = false;
    },
    function () { say("未能定位：请允许使用位置 / Allow the page to use your position."); button.disabled = false; },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 }
  );
})();
