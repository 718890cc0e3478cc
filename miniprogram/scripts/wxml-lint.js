/** A small WXML lint: unknown tags (not built-in, not in usingComponents) and misspelt wx:/event attributes. */

const BUILT_IN = new Set([
  // view containers
  'view', 'scroll-view', 'swiper', 'swiper-item', 'movable-area', 'movable-view', 'cover-view', 'cover-image',
  'match-media', 'page-container', 'root-portal', 'share-element', 'grid-view', 'list-view', 'sticky-header',
  'sticky-section',
  // basic content
  'icon', 'progress', 'rich-text', 'text',
  // forms
  'button', 'checkbox', 'checkbox-group', 'editor', 'form', 'input', 'keyboard-accessory', 'label', 'picker',
  'picker-view', 'picker-view-column', 'radio', 'radio-group', 'slider', 'switch', 'textarea',
  // navigation, media, map, canvas, open abilities
  'functional-page-navigator', 'navigator', 'audio', 'camera', 'image', 'live-player', 'live-pusher', 'video',
  'voip-room', 'map', 'canvas', 'web-view', 'ad', 'ad-custom', 'official-account', 'open-data', 'page-meta',
  'navigation-bar',
  // WXML language
  'block', 'template', 'import', 'include', 'slot', 'wxs',
]);

const WX_ATTRIBUTES = new Set(['wx:if', 'wx:elif', 'wx:else', 'wx:for', 'wx:for-item', 'wx:for-index', 'wx:key']);
const EVENT_PREFIX = /^(bind|catch|capture-bind|capture-catch|mut-bind)(:?)([a-z][a-z-]*)$/i;

function lineOf(text, index) {
  return text.slice(0, index).split('\n').length;
}

function stripComments(text) {
  return text.replace(/<!--[\s\S]*?-->/g, (m) => m.replace(/[^\n]/g, ' '));
}

function checkAttributes(attrs, line) {
  const problems = [];
  const names = attrs.match(/[\w:.-]+(?==)|(?:^|\s)wx:[\w-]+/g) || [];
  names.map((n) => n.trim()).forEach((name) => {
    if (name.startsWith('wx:') && !WX_ATTRIBUTES.has(name)) problems.push({ line, message: `unknown attribute ${name}` });
    if (/^(bind|catch)/i.test(name) && !EVENT_PREFIX.test(name)) problems.push({ line, message: `malformed event binding ${name}` });
  });
  return problems;
}

/** Problems in one WXML text given the custom tags it may use: [{line, message}]. */
function lintWxml(source, customTags) {
  const text = stripComments(source);
  const known = new Set(customTags);
  const problems = [];
  const tagPattern = /<([a-zA-Z][\w-]*)((?:\s+[^>]*?)?)\s*\/?>/g;
  let match = tagPattern.exec(text);
  while (match) {
    const [, tag, attrs] = match;
    const line = lineOf(text, match.index);
    if (!BUILT_IN.has(tag) && !known.has(tag)) problems.push({ line, message: `unknown tag <${tag}>` });
    if (tag !== 'wxs') problems.push(...checkAttributes(attrs || '', line));
    match = tagPattern.exec(text);
  }
  return problems;
}

module.exports = { lintWxml, BUILT_IN };
