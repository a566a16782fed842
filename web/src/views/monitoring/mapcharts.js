// The map chart of ECharts (series type "map" with a visual map), registered beside ../../charts.js and loaded on
// demand by the map page only.
import {MapChart} from "echarts/charts";
import {VisualMapComponent} from "echarts/components";
import {registerMap, use} from "echarts/core";

use([MapChart, VisualMapComponent]);

export {registerMap};
