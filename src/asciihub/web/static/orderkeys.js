// Fractional order keys, the same scheme as asciihub.services.collab.key_between
// (base 62, an integer part with a head letter, then a fraction never ending in 0).
(function () {
  "use strict";
  var DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  var SMALLEST = "A" + "0".repeat(26);

  function intLength(head) {
    if (head >= "a" && head <= "z") { return head.charCodeAt(0) - 97 + 2; }
    if (head >= "A" && head <= "Z") { return 90 - head.charCodeAt(0) + 2; }
    throw new Error("bad order key " + head);
  }
  function intPart(key) { return key.slice(0, intLength(key[0])); }

  function midpoint(a, b) {
    if (b !== null) {
      var n = 0;
      while (n < b.length && (n < a.length ? a[n] : "0") === b[n]) { n++; }
      if (n > 0) { return b.slice(0, n) + midpoint(a.slice(n), b.slice(n)); }
    }
    var da = a ? DIGITS.indexOf(a[0]) : 0;
    var db = b ? DIGITS.indexOf(b[0]) : DIGITS.length;
    if (db - da > 1) { return DIGITS[Math.floor((da + db + 1) / 2)]; }
    if (b !== null && b.length > 1) { return b.slice(0, 1); }
    return DIGITS[da] + midpoint(a.slice(1), null);
  }

  function increment(integer) {
    var head = integer[0], digits = integer.slice(1).split("");
    for (var i = digits.length - 1; i >= 0; i--) {
      var d = DIGITS.indexOf(digits[i]) + 1;
      if (d < DIGITS.length) { digits[i] = DIGITS[d]; return head + digits.join(""); }
      digits[i] = "0";
    }
    if (head === "Z") { return "a0"; }
    if (head === "z") { return null; }
    var next = String.fromCharCode(head.charCodeAt(0) + 1);
    if (next > "a") { digits.push("0"); } else { digits.pop(); }
    return next + digits.join("");
  }

  function decrement(integer) {
    var head = integer[0], digits = integer.slice(1).split("");
    for (var i = digits.length - 1; i >= 0; i--) {
      var d = DIGITS.indexOf(digits[i]) - 1;
      if (d >= 0) { digits[i] = DIGITS[d]; return head + digits.join(""); }
      digits[i] = DIGITS[DIGITS.length - 1];
    }
    if (head === "a") { return "Z" + DIGITS[DIGITS.length - 1]; }
    if (head === "A") { return null; }
    var prev = String.fromCharCode(head.charCodeAt(0) - 1);
    if (prev < "Z") { digits.push(DIGITS[DIGITS.length - 1]); } else { digits.pop(); }
    return prev + digits.join("");
  }

  function keyBetween(a, b) {
    if (a === null && b === null) { return "a0"; }
    if (a === null) {
      var ib = intPart(b);
      if (ib === SMALLEST) { return ib + midpoint("", b.slice(ib.length)); }
      if (ib < b) { return ib; }
      return decrement(ib);
    }
    var ia = intPart(a);
    if (b === null) {
      var up = increment(ia);
      return up === null ? ia + midpoint(a.slice(ia.length), null) : up;
    }
    var ib2 = intPart(b);
    if (ia === ib2) { return ia + midpoint(a.slice(ia.length), b.slice(ib2.length)); }
    var higher = increment(ia);
    if (higher !== null && higher < b) { return higher; }
    return ia + midpoint(a.slice(ia.length), null);
  }

  window.asciihubKeys = { keyBetween: keyBetween };
})();
