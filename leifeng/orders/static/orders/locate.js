// "Use my location" on the order form: fills the hidden latitude/longitude fields (no inline script: CSP).
(function () {
  var button = document.getElementById("use-location");
  if (!button || !navigator.geolocation) { if (button) button.hidden = true; return; }
  var status = document.getElementById("location-status");
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("id_latitude").value = pos.coords.latitude.toFixed(6);
      document.getElementById("id_longitude").value = pos.coords.longitude.toFixed(6);
      status.textContent = button.dataset.found + " (" + pos.coords.latitude.toFixed(4) + ", " + pos.coords.longitude.toFixed(4) + ")";
    }, function () { status.textContent = button.dataset.failed; }, { timeout: 10000 });
  });
})();
