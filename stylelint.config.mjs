// Stylelint for web/src/style.css and web/src/styles/*.css (run by tests/web/stylelint.test.ts in `npm test`).
// stylelint-config-standard catches what breaks a sheet silently: unclosed blocks (a syntax error), unknown
// properties, at-rules, units and values, duplicate selectors and properties. Its purely notational rules are tuned
// to the sheet's own conventions (compact rules without blank lines, rgba() with commas, `min-width:` media queries).
/** @type {import('stylelint').Config} */
export default {
  extends: ['stylelint-config-standard'],
  rules: {
    // The sheet is plain CSS without nesting: a rule inside a rule is a brace left open above it (the bug that left a
    // third of the app unstyled), so any nesting outside @media/@supports/@container is an error.
    'max-nesting-depth': [0, { ignoreAtRules: ['media', 'supports', 'container', 'layer'] }],
    'declaration-property-value-no-unknown': true,
    // the sheet's notation
    'rule-empty-line-before': null,
    'at-rule-empty-line-before': null,
    'declaration-empty-line-before': null,
    'comment-empty-line-before': null,
    'import-notation': 'string',
    'alpha-value-notation': null,
    'color-function-notation': null,
    'color-function-alias-notation': null,
    'media-feature-range-notation': null,
    'value-keyword-case': ['lower', { ignoreProperties: ['font-family', '/^--/'], camelCaseSvgKeywords: true }],
    'selector-class-pattern': null,
    'custom-property-pattern': null,
    'keyframes-name-pattern': null,
    // Component rules are grouped by component, not by specificity; this rule would force unrelated rules apart.
    'no-descending-specificity': null,
    // `clip` is the visually-hidden idiom's fallback; the two prefixed properties are still needed by Safari.
    'property-no-deprecated': [true, { ignoreProperties: ['clip'] }],
    'property-no-vendor-prefix': [true, { ignoreProperties: ['-webkit-text-size-adjust', '-webkit-background-clip'] }],
  },
};
