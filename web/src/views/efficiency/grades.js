// The five grades of the 碳效码 and their colours (the built-in configuration's: dark green to red). A stored
// code carries its own colour (its configuration version's); these colour the charts.
export const GRADES = [1, 2, 3, 4, 5];
const COLOURS = ["#1b7f3b", "#6abf40", "#f2c230", "#f08a24", "#d7263d"];

export function gradeColour(grade) { return COLOURS[grade - 1] || "#b8c2ca"; }
